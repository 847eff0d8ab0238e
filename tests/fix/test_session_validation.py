"""Message validation and rejects (published cases 2i-2t, 3, 14a-14i, 15, 21)."""

from __future__ import annotations

from fixhelp import SEC, T0, build, delivered, disconnects, logged_on, order, sends

from gateway.fix.codec import Message, format_utc

NOW = format_utc(T0)
ORDER_BODY = ((11, "ID"), (21, 1), (40, 1), (54, 1), (38, "200.00"), (55, "INTC"), (60, NOW))


def reject_of(acts: list[object]) -> Message:
    [reject] = [m for m in sends(acts) if m.msg_type == "3"]  # type: ignore[arg-type]
    return reject


def test_2i_begin_string_unexpected_logout_incorrect_begin_string() -> None:
    s = logged_on()
    acts = s.receive(build("1", 2, (112, "id"), begin="FIX.4.1"), T0)
    [logout] = sends(acts)
    assert logout.msg_type == "5" and logout.get(58) == "Incorrect BeginString"
    assert disconnects(s.receive(build("5", 3), T0))


def test_2k_sender_comp_id_wrong_reject_9_and_logout() -> None:
    s = logged_on()
    acts = s.receive(order(2, sender="WT"), T0)
    reject, logout = sends(acts)
    assert (reject.get(45), reject.get(372), reject.get(373), reject.get(371)) == (
        "2", "D", "9", None)
    assert logout.msg_type == "5" and not delivered(acts)
    assert disconnects(s.receive(build("5", 3), T0))


def test_2k_target_comp_id_wrong_reject_9_and_logout() -> None:
    s = logged_on()
    reject, logout = sends(s.receive(order(2, target="DLSI"), T0))
    assert reject.get(373) == "9" and logout.msg_type == "5"


def test_2o_sending_time_too_early_reject_10_and_logout() -> None:
    s = logged_on()
    acts = s.receive(build("0", 2, now=T0 - 121 * SEC), T0)
    reject, logout = sends(acts)
    assert (reject.get(45), reject.get(372), reject.get(373)) == ("2", "0", "10")
    assert logout.msg_type == "5" and s.next_target_seq == 3


def test_2o_sending_time_too_late_reject_10() -> None:
    s = logged_on()
    reject, _ = sends(s.receive(build("0", 2, now=T0 + 121 * SEC), T0))
    assert reject.get(373) == "10"


def test_2o_check_latency_off_accepts_old_sending_time() -> None:
    s = logged_on(check_latency=False)
    assert sends(s.receive(build("0", 2, now=T0 - 3600 * SEC), T0)) == []


def test_2q_msg_type_not_valid_reject_11() -> None:
    s = logged_on()
    reject = reject_of(s.receive(build("*", 2), T0))
    assert (reject.get(45), reject.get(372), reject.get(373)) == ("2", "*", "11")
    assert s.next_target_seq == 3


def test_2r_unregistered_msg_type_business_reject_380_3() -> None:
    s = logged_on()
    er = build("8", 2, (37, "id"), (17, "id"), (20, 0), (150, 0), (39, 0), (55, "WLRI"),
               (54, 1), (151, 100), (14, 0), (6, "0.0"))
    [bmr] = sends(s.receive(er, T0))
    assert (bmr.msg_type, bmr.get(45), bmr.get(372), bmr.get(380)) == ("j", "2", "8", "3")
    assert "Unsupported Message Type" in (bmr.get(58) or "")
    assert s.next_target_seq == 3


def test_2t_first_three_fields_out_of_order_ignored() -> None:
    s = logged_on()
    bad = build("0", 2).replace(b"9=", b"XX", 1)  # BodyLength no longer second
    from gateway.fix.codec import Framer
    framer = Framer()
    assert framer.feed(bad) == [] and framer.garbled >= 1
    assert s.next_target_seq == 2


def test_3b_invalid_checksum_ignored_then_resend_request() -> None:
    from gateway.fix.codec import Framer
    s = logged_on()
    framer = Framer()
    bad = build("0", 2)[:-4] + b"256\x01"
    stream = bad + build("0", 2) + order(3)[:-4] + b"256\x01" + build("0", 4)
    acts = [a for raw in framer.feed(stream) for a in s.receive(raw, T0)]
    assert framer.garbled == 2
    [rr] = sends(acts)
    assert (rr.get(7), rr.get(16)) == ("3", "0")


def test_14a_undefined_tag_rejected_373_0() -> None:
    s = logged_on(hb=2)
    for seq, tag in ((2, 999), (3, 0), (4, -1), (5, 5000)):
        reject = reject_of(s.receive(build("0", seq, (tag, "HI")), T0))
        assert (reject.get(45), reject.get(371), reject.get(372), reject.get(373)) == (
            str(seq), str(tag), "0", "0")
    assert s.next_target_seq == 6


def test_14b_required_header_field_missing_rejected_373_1() -> None:
    s = logged_on()
    reject = reject_of(s.receive(build("0", 2, target=None), T0))
    assert (reject.get(371), reject.get(372), reject.get(373)) == ("56", "0", "1")
    assert s.next_target_seq == 3


def test_14b_required_body_field_missing_rejected_373_1() -> None:
    s = logged_on()
    body = ((40, 1), (60, NOW), (54, 1), (21, 3), (11, "id"))
    reject = reject_of(s.receive(build("D", 2, *body), T0))
    assert (reject.get(45), reject.get(371), reject.get(372), reject.get(373)) == (
        "2", "55", "D", "1")


def test_14c_tag_not_defined_for_message_type_rejected_373_2() -> None:
    s = logged_on()
    reject = reject_of(s.receive(build("0", 2, (55, "MSFT")), T0))
    assert (reject.get(371), reject.get(372), reject.get(373)) == ("55", "0", "2")


def test_14d_tag_specified_without_value_rejected_373_4() -> None:
    s = logged_on()
    raw = build("0", 2, (112, ""))
    reject = reject_of(s.receive(raw, T0))
    assert (reject.get(371), reject.get(373)) == ("112", "4")
    reject = reject_of(s.receive(build("0", 3, target=""), T0))  # "56=" as in case 14d
    assert (reject.get(371), reject.get(373)) == ("56", "4")


def test_14e_incorrect_enum_value_rejected_373_5() -> None:
    s = logged_on()
    bad21 = tuple((t, 4 if t == 21 else v) for t, v in ORDER_BODY)
    reject = reject_of(s.receive(build("D", 2, *bad21), T0))
    assert (reject.get(371), reject.get(372), reject.get(373)) == ("21", "D", "5")
    reject = reject_of(s.receive(build("D", 3, *ORDER_BODY, (167, "BOO")), T0))
    assert (reject.get(371), reject.get(373)) == ("167", "5")
    assert delivered(s.receive(build("D", 4, *ORDER_BODY, (167, "FUT")), T0))


def test_14f_incorrect_data_format_rejected_373_6() -> None:
    s = logged_on()
    body = tuple((t, "+200.00" if t == 38 else v) for t, v in ORDER_BODY)
    reject = reject_of(s.receive(build("D", 2, *body), T0))
    assert (reject.get(371), reject.get(372), reject.get(373)) == ("38", "D", "6")


def test_14g_header_body_out_of_order_rejected_371_34() -> None:
    s = logged_on()
    from gateway.fix.codec import frame
    body = b"35=D\x0111=id\x0121=3\x0140=1\x0154=1\x0155=MSFT\x0160=%s\x0134=2\x0149=TW42" \
           b"\x0152=%s\x0156=ISLD\x01" % (NOW.encode(), NOW.encode())
    reject = reject_of(s.receive(frame(body), T0))
    assert (reject.get(45), reject.get(371), reject.get(372)) == ("2", "34", "D")
    assert reject.get(373) is None  # 14 is a FIX 4.3 code: QuickFIX omits 373 on 4.2
    assert "out of required order" in (reject.get(58) or "")
    assert s.next_target_seq == 3


def test_14g_reason_above_11_sent_when_configured() -> None:
    s = logged_on(reject_reason_above_11=True)
    raw = build("D", 2, (11, "ID"), (21, 1), (40, 1), (40, 2), (54, 1), (55, "INTC"),
                (60, NOW))
    assert reject_of(s.receive(raw, T0)).get(373) == "13"


def test_14h_repeated_tag_rejected_371_40() -> None:
    s = logged_on()
    raw = build("D", 2, (11, "ID"), (21, 1), (40, 1), (40, 2), (54, 1), (38, "200.00"),
                (55, "INTC"), (60, NOW))
    reject = reject_of(s.receive(raw, T0))
    assert (reject.get(371), reject.get(372)) == ("40", "D")
    assert "more than once" in (reject.get(58) or "")


def test_14i_repeating_group_count_not_equal_rejected_371_386() -> None:
    s = logged_on()
    raw = build("D", 2, (11, "ID"), (21, 1), (40, 1), (54, 1), (38, "200.00"), (55, "INTC"),
                (386, 3), (336, "PRE-OPEN"), (336, "AFTER-HOURS"), (60, NOW))
    reject = reject_of(s.receive(raw, T0))
    assert (reject.get(371), reject.get(372)) == ("386", "D")
    assert "NumInGroup" in (reject.get(58) or "")


def test_15_header_and_body_fields_ordered_differently_accepted() -> None:
    s = logged_on()
    from gateway.fix.codec import frame
    body = b"35=D\x0149=TW42\x0134=2\x0156=ISLD\x0152=%s\x0140=1\x0155=MSFT\x0160=%s" \
           b"\x0154=1\x0121=3\x0111=id\x01" % (NOW.encode(), NOW.encode())
    [msg] = delivered(s.receive(frame(body), T0))
    assert msg.get(55) == "MSFT"


def test_21_repeating_group_with_count_zero_accepted() -> None:
    s = logged_on(app_msg_types=frozenset({"d"}))
    raw = build("d", 2, (320, "JCD1091-20021011"), (322, "1034356488676"), (323, 6),
                (55, "TBS"), (22, 8), (167, "OPT"), (336, "ONE_MAIN"),
                (58, "No Products found for this Class Symbol"), (393, 0), (146, 0))
    assert len(delivered(s.receive(raw, T0))) == 1


def test_market_data_snapshot_groups_validated_and_readable() -> None:
    s = logged_on(app_msg_types=frozenset({"W", "f"}))
    raw = build("W", 2, (55, "AAPL"), (268, 2), (269, 0), (270, "189.10"), (271, 300),
                (269, 1), (270, "189.12"), (271, 200))
    [msg] = delivered(s.receive(raw, T0))
    assert msg.group(268) == [{269: "0", 270: "189.10", 271: "300"},
                              {269: "1", 270: "189.12", 271: "200"}]
    bad = build("W", 3, (55, "AAPL"), (268, 2), (269, 0), (270, "189.10"))
    reject = reject_of(s.receive(bad, T0))
    assert (reject.get(371), reject.get(372)) == ("268", "W")
    status = build("f", 4, (55, "AAPL"), (326, 2), (7101, 1), (7102, "Y"))
    [st] = delivered(s.receive(status, T0))
    assert (st.get(7101), st.get(7102)) == ("1", "Y")


def test_dialect_tags_accepted_on_new_order_single() -> None:
    s = logged_on()
    raw = build("D", 2, *ORDER_BODY, (7001, "F"), (7010, "Y"), (7011, 3), (7012, "A"),
                (7013, "N"), (5700, "BRKR"), (18, "M 6"), (47, "A"), (114, "N"))
    [msg] = delivered(s.receive(raw, T0))
    assert (msg.get(7011), msg.get(18)) == ("3", "M 6")


def test_cancel_and_replace_required_fields() -> None:
    s = logged_on()
    cancel = build("F", 2, (41, "ID"), (11, "ID2"), (55, "INTC"), (54, 1), (60, NOW))
    assert delivered(s.receive(cancel, T0))
    replace = build("G", 3, (41, "ID2"), (11, "ID3"), (21, 1), (55, "INTC"), (54, 1),
                    (60, NOW), (40, 2), (44, "10.01"))
    assert delivered(s.receive(replace, T0))
    reject = reject_of(s.receive(build("F", 4, (11, "X"), (55, "I"), (54, 1), (60, NOW)), T0))
    assert (reject.get(371), reject.get(373)) == ("41", "1")


def test_sending_time_bad_format_rejected_373_6_without_logout() -> None:
    s = logged_on()
    acts = s.receive(build("0", 2, sending_time="2023-11-14 22:13"), T0)
    [reject] = sends(acts)
    assert (reject.get(371), reject.get(373)) == ("52", "6")
    assert s.next_target_seq == 3


def test_moc_values_pass_the_session_layer() -> None:
    """SPEC 5.2 through FIX: a W with 269=5 (Closing Price) and a MOC order with 59=7 (At the
    Close, a FIX 4.3 value our dialect adds) reach the application; 59=8 is no value at all."""
    s = logged_on(app_msg_types=frozenset({"W", "D"}))
    close = build("W", 2, (55, "AAPL"), (268, 1), (269, 5), (270, "187.43"))
    [msg] = delivered(s.receive(close, T0))
    assert msg.group(268) == [{269: "5", 270: "187.43"}]
    moc = build("D", 3, (11, "M1"), (21, 1), (40, 5), (54, 1), (38, 100), (55, "AAPL"),
                (59, 7), (60, NOW))
    [msg] = delivered(s.receive(moc, T0))
    assert (msg.get(40), msg.get(59)) == ("5", "7")
    bad = build("D", 4, (11, "M2"), (21, 1), (40, 5), (54, 1), (38, 100), (55, "AAPL"),
                (59, 8), (60, NOW))
    reject = reject_of(s.receive(bad, T0))
    assert (reject.get(371), reject.get(373)) == ("59", "5")
