"""Sans-I/O RESP: request parsing and reply encoding. No sockets and no server state here."""
