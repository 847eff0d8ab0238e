"""The venue's counterparty tools: `ats-client`, `ats-feed` and the FIX initiator they share.

They speak to the gateway over FIX like any participant. Imports point one way: these tools use
`gateway.fix` and `gateway.config`; nothing in `gateway/` imports them.
"""
