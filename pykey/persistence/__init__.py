"""Persistence: the RDB file format (Valkey 8 / Redis 7.x, RDB version 11, and the Valkey 9
hash-field-TTL type), DUMP/RESTORE payloads, CRC64 and LZF, and the snapshot machinery
(SAVE/BGSAVE). Free of asyncio and sockets: bytes in, values out, and back."""
