"""The three statements of the Daily Segregation filing (FOCUS II), as data.

Captions and codes follow the filed form (seed 000_5a01a5fae5dff350). Decisions where the form's
text leaves the arithmetic open, each confirmed by the filed figures reproducing exactly:

* Every "add lines" and every net line is a plain sum. Deductions ("Less: amount offset ...",
  options granted (sold), short option values) are filed as negative figures and are added, so
  those inputs must be zero or negative (Sign.NON_POSITIVE); 7351 + 7352 = 52,501,874 - 50,481,273
  = 2,020,601 = 7354 as filed.
* "Subtract line 6 from line 13" is 13 - 6; "excess over (under) target" is excess - target.
* Secured amounts line 7 (7360) is max(7305, 7355).
* Secured amounts, funds page, line 8 (7770) totals the net lines 1-5 (7530, 7570, 7620, 7680,
  7740) plus lines 6 and 7; the sub-items count only through their net lines.
* Cleared swaps line 12 prints three amounts (A-C) without codes and their net as [8715]; this tool
  keys them 8715A, 8715B, 8715C (not form codes) and derives 8715 as their sum. The input may
  give either the net [8715], as printed, or its parts, not both (`Statement.net_inputs`).
"""

from __future__ import annotations

from .model import Column, Heading, Line, Op, Section, Sign, Statement

NEG = Sign.NON_POSITIVE
POS = Sign.NON_NEGATIVE


def _in(code: str, label: str, caption: str, sign: Sign = Sign.ANY, *, inner: bool = False,
        form_code: bool = True) -> Line:
    """An input line."""
    column = Column.INNER if inner else Column.OUTER
    return Line(code, label, caption, sign=sign, column=column, form_code=form_code)


def _sum(code: str, label: str, caption: str, *operands: str, note: str = "") -> Line:
    """A line the form computes as the sum of `operands`."""
    return Line(code, label, caption, Op.SUM, operands, note=note)


def _net(code: str, *operands: str) -> Line:
    """A net line printed without a caption beside the sub-items it nets."""
    return Line(code, "", "", Op.SUM, operands, note="net line without its own caption")


def _diff(code: str, label: str, caption: str, minuend: str, subtrahend: str) -> Line:
    """A line the form computes as `minuend - subtrahend`."""
    return Line(code, label, caption, Op.DIFFERENCE, (minuend, subtrahend))


SECURED_AMOUNTS = Statement(
    key="secured_amounts",
    name="Secured amounts (30.7)",
    title="Daily Segregation - Secured Amounts",
    authority="Foreign futures and foreign options secured amounts (Regulation 30.7)",
    excess="7380",
    over_target="7785",
    sections=(
        Section("FOREIGN FUTURES AND FOREIGN OPTIONS SECURED AMOUNTS", (
            _in("7305", "", "Amount required to be set aside pursuant to law, rule or regulation "
                "of a foreign government or a rule of a self-regulatory organization authorized "
                "thereunder", POS),
            Heading("1", "Net ledger balance - Foreign Futures and Foreign Option Trading - All "
                    "Customers"),
            _in("7315", "A", "Cash"),
            _in("7317", "B", "Securities (at market)"),
            _in("7325", "2", "Net unrealized profit (loss) in open futures contracts traded on a "
                "foreign board of trade"),
            Heading("3", "Exchange traded options"),
            _in("7335", "a", "Market value of open option contracts purchased on a foreign board "
                "of trade", POS),
            _in("7337", "b", "Market value of open contracts granted (sold) on a foreign board of "
                "trade", NEG),
            _sum("7345", "4", "Net equity (deficit) (add lines 1. 2. and 3.)",
                 "7315", "7317", "7325", "7335", "7337"),
            _in("7351", "5", "Account liquidating to a deficit and account with a debit balances "
                "- gross amount", POS, inner=True),
            _in("7352", "", "Less: amount offset by customer owned securities", NEG, inner=True),
            _net("7354", "7351", "7352"),
            _sum("7355", "6", "Amount required to be set aside as the secured amount - Net "
                 "Liquidating Equity Method (add lines 4 and 5)", "7345", "7354"),
            Line("7360", "7", "Greater of amount required to be set aside pursuant to foreign "
                 "jurisdiction (above) or line 6.", Op.GREATER_OF, ("7305", "7355")),
        )),
        Section("FUNDS DEPOSITED IN SEPARATE REGULATION 30.7 ACCOUNTS", (
            Heading("1", "Cash in banks"),
            _in("7500", "A", "Banks located in the United States", inner=True),
            _in("7520", "B", "Other banks qualified under Regulation 30.7", inner=True),
            _net("7530", "7500", "7520"),
            Heading("2", "Securities"),
            _in("7540", "A", "In safekeeping with banks located in the United States", inner=True),
            _in("7560", "B", "In safekeeping with other banks qualified under Regulation 30.7",
                inner=True),
            _net("7570", "7540", "7560"),
            Heading("3", "Equities with registered futures commission merchants"),
            _in("7580", "A", "Cash", inner=True),
            _in("7590", "B", "Securities", inner=True),
            _in("7600", "C", "Unrealized gain (loss) on open futures contracts", inner=True),
            _in("7610", "D", "Value of long option contracts", POS, inner=True),
            _in("7615", "E", "Value of short option contracts", NEG, inner=True),
            _net("7620", "7580", "7590", "7600", "7610", "7615"),
            Heading("4", "Amounts held by clearing organizations of foreign boards of trade"),
            _in("7640", "A", "Cash", inner=True),
            _in("7650", "B", "Securities", inner=True),
            _in("7660", "C", "Amount due to (from) clearing organization - daily variation",
                inner=True),
            _in("7670", "D", "Value of long option contracts", POS, inner=True),
            _in("7675", "E", "Value of short option contracts", NEG, inner=True),
            _net("7680", "7640", "7650", "7660", "7670", "7675"),
            Heading("5", "Amounts held by members of foreign boards of trade"),
            _in("7700", "A", "Cash", inner=True),
            _in("7710", "B", "Securities", inner=True),
            _in("7720", "C", "Unrealized gain (loss) on open futures contracts", inner=True),
            _in("7730", "D", "Value of long option contracts", POS, inner=True),
            _in("7735", "E", "Value of short option contracts", NEG, inner=True),
            _net("7740", "7700", "7710", "7720", "7730", "7735"),
            _in("7760", "6", "Amounts with other depositories designated by a foreign board of "
                "trade"),
            _in("7765", "7", "Segregated funds on hand"),
            _sum("7770", "8", "Total funds in separate section 30.7 accounts",
                 "7530", "7570", "7620", "7680", "7740", "7760", "7765",
                 note="lines 1-5 enter through their net lines"),
            _diff("7380", "9", "Excess (deficiency) Set Aside for Secured Amount (subtract line 7 "
                  "Secured Statement Page 1 from Line 8)", "7770", "7360"),
            _in("7780", "10", "Management Target Amount for Excess funds in separate section 30.7 "
                "accounts", POS),
            _diff("7785", "11", "Excess (deficiency) funds in separate 30.7 accounts over (under) "
                  "Management Target", "7380", "7780"),
        )),
    ),
)

SEGREGATION = Statement(
    key="segregation",
    name="Segregation (4d(2))",
    title="Daily Segregation - Segregation Statement",
    authority="Segregation requirements (section 4d(2) of the CEAct)",
    excess="7190",
    over_target="7198",
    sections=(
        Section("SEGREGATION REQUIREMENTS (Section 4d(2) of the CEAct)", (
            Heading("1", "Net ledger balance"),
            _in("7010", "A", "Cash"),
            _in("7020", "B", "Securities (at market)"),
            _in("7030", "2", "Net unrealized profit (loss) in open futures contracts traded on a "
                "contract market"),
            Heading("3", "Exchange traded options"),
            _in("7032", "A", "Add market value of open option contracts purchased on a contract "
                "market", POS),
            _in("7033", "B", "Deduct market value of open option contracts granted (sold) on a "
                "contract market", NEG),
            _sum("7040", "4", "Net equity (deficit) (add lines 1, 2 and 3)",
                 "7010", "7020", "7030", "7032", "7033"),
            _in("7045", "5", "Accounts liquidating to a deficit and accounts with debit balances "
                "- gross amount", POS, inner=True),
            _in("7047", "", "Less: amount offset by customer securities", NEG, inner=True),
            _net("7050", "7045", "7047"),
            _sum("7060", "6", "Amount required to be segregated (add lines 4 and 5)",
                 "7040", "7050"),
        )),
        Section("FUNDS IN SEGREGATED ACCOUNTS", (
            Heading("7", "Deposited in segregated funds bank accounts"),
            _in("7070", "A", "Cash"),
            _in("7080", "B", "Securities representing investments of customers' funds (at "
                "market)"),
            _in("7090", "C", "Securities held for particular customers or option customers in "
                "lieu of cash (at market)"),
            Heading("8", "Margins on deposit with derivatives clearing organizations of contract "
                    "markets"),
            _in("7100", "A", "Cash"),
            _in("7110", "B", "Securities representing investments of customers' funds (at "
                "market)"),
            _in("7120", "C", "Securities held for particular customers or option customers in "
                "lieu of cash (at market)"),
            _in("7130", "9", "Net settlement from (to) derivatives clearing organizations of "
                "contract markets"),
            Heading("10", "Exchange traded options"),
            _in("7132", "A", "Value of open long option contracts", POS),
            _in("7133", "B", "Value of open short option contracts", NEG),
            Heading("11", "Net equities with other FCMs"),
            _in("7140", "A", "Net liquidating equity"),
            _in("7160", "B", "Securities representing investments of customers' funds (at "
                "market)"),
            _in("7170", "C", "Securities held for particular customers or option customers in "
                "lieu of cash (at market)"),
            _in("7150", "12", "Segregated funds on hand"),
            _sum("7180", "13", "Total amount in segregation (add lines 7 through 12)",
                 "7070", "7080", "7090", "7100", "7110", "7120", "7130", "7132", "7133",
                 "7140", "7160", "7170", "7150"),
            _diff("7190", "14", "Excess (deficiency) funds in segregation (subtract line 6 from "
                  "line 13)", "7180", "7060"),
            _in("7194", "15", "Management Target Amount for Excess funds in segregation", POS),
            _diff("7198", "16", "Excess (deficiency) funds in segregation over (under) "
                  "Management Target Amount", "7190", "7194"),
        )),
    ),
)

CLEARED_SWAPS = Statement(
    key="cleared_swaps",
    name="Cleared swaps (4d(f))",
    title="Daily Segregation - Swaps Statement",
    authority="Cleared swaps customer segregation requirements and funds in cleared swaps "
              "customer accounts (4d(f) of the CEA)",
    excess="8730",
    over_target="8770",
    sections=(
        Section("Cleared Swaps Customer Requirements", (
            Heading("1", "Net ledger balance"),
            _in("8500", "A", "Cash"),
            _in("8510", "B", "Securities (at market)"),
            _in("8520", "2", "Net unrealized profit (loss) in open cleared swaps"),
            Heading("3", "Cleared swaps options"),
            _in("8530", "A", "Market value of open cleared swaps option contracts purchased", POS),
            _in("8540", "B", "Market value of open cleared swaps option contracts granted (sold)",
                NEG),
            _sum("8550", "4", "Net Equity (deficit) (add lines 1, 2, and 3)",
                 "8500", "8510", "8520", "8530", "8540"),
            _in("8560", "5", "Accounts liquidating to a deficit and accounts with debit balances "
                "- gross amount", POS, inner=True),
            _in("8570", "", "Less: amount offset by customer owned securities", NEG, inner=True),
            _net("8580", "8560", "8570"),
            _sum("8590", "6", "Amount required to be segregated for cleared swaps customers (add "
                 "lines 4 and 5)", "8550", "8580"),
        )),
        Section("Funds in Cleared Swaps Customer Segregated Accounts", (
            Heading("7", "Deposited in cleared swaps customer segregated accounts at banks"),
            _in("8600", "A", "Cash"),
            _in("8610", "B", "Securities representing investments of cleared swaps customers' "
                "funds (at market)"),
            _in("8620", "C", "Securities held for particular cleared swaps customers in lieu of "
                "cash (at market)"),
            Heading("8", "Margins on deposit with derivatives clearing organizations in cleared "
                    "swaps customer segregated accounts"),
            _in("8630", "A", "Cash"),
            _in("8640", "B", "Securities representing investments of cleared swaps customers' "
                "funds (at market)"),
            _in("8650", "C", "Securities held for particular cleared swaps customers in lieu of "
                "cash (at market)"),
            _in("8660", "9", "Net settlement from (to) derivatives clearing organizations"),
            Heading("10", "Cleared swaps options"),
            _in("8670", "A", "Value of open cleared swaps long option contracts", POS),
            _in("8680", "B", "Value of open cleared swaps short option contracts", NEG),
            Heading("11", "Net equities with other FCMs"),
            _in("8690", "A", "Net liquidating equity"),
            _in("8700", "B", "Securities representing investments of cleared swaps customers' "
                "funds (at market)"),
            _in("8710", "C", "Securities held for particular cleared swaps customers in lieu of "
                "cash (at market)"),
            Heading("12", "Cleared swaps customer funds on hand"),
            _in("8715A", "A", "Cash", inner=True, form_code=False),
            _in("8715B", "B", "Securities representing investments of cleared swaps customers' "
                "funds (at market)", inner=True, form_code=False),
            _in("8715C", "C", "Securities held for particular cleared swaps customers in lieu of "
                "cash (at market)", inner=True, form_code=False),
            _net("8715", "8715A", "8715B", "8715C"),
            _sum("8720", "13", "Total amount in cleared swaps customer segregation (add lines 7 "
                 "through 12)", "8600", "8610", "8620", "8630", "8640", "8650", "8660", "8670",
                 "8680", "8690", "8700", "8710", "8715",
                 note="line 12 enters through its net line 8715"),
            _diff("8730", "14", "Excess (deficiency) funds in cleared swaps customer segregation "
                  "(subtract line 6 from line 13)", "8720", "8590"),
            _in("8760", "15", "Management Target Amount for Excess funds in cleared swaps "
                "segregated accounts", POS),
            _diff("8770", "16", "Excess (deficiency) funds in cleared swaps customer segregated "
                  "accounts over (under) Management Target", "8730", "8760"),
        )),
    ),
)

STATEMENTS: tuple[Statement, ...] = (SECURED_AMOUNTS, SEGREGATION, CLEARED_SWAPS)
"""The statements in filing order; each one's `key` is its TOML table name."""

BY_KEY: dict[str, Statement] = {s.key: s for s in STATEMENTS}
