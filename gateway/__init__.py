"""The FIX 4.2 gateway: config, the asyncio acceptor, and the order path into the matcher."""
