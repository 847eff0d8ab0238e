"""The FIX 4.2 gateway: config, the asyncio acceptor, and the order path into the matcher."""

from matcher import _pure

_pure.install()  # before any module that may be compiled (ATS_PURE=1, stale builds)
