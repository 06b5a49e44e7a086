"""The fair Python peer of `kek bench --peer`: kek's rotation statements, written with psycopg 3.

It runs the very SQL text kek runs (handed over by `kek bench` in PEER_*_SQL, with PostgreSQL's
own $n placeholders through psycopg's RawCursor): per batch, in one transaction, SELECT ... FOR
UPDATE SKIP LOCKED in id order, one UPDATE ... FROM unnest that moves kek_id and writes the new
bytes (the database's statement trigger counts the wraps, as for kek); then one commit. Same batch size, envelope v1 and AAD strings as kek
(see DESIGN.md). Like kek it sends unnamed statements (no server-side prepare) with binary results.

With PEER_CRYPTO=1 it really rewraps (AES-256-GCM from `cryptography`: open under the old KEK,
seal under the new one with a fresh nonce); with PEER_CRYPTO=0 it writes each row's own bytes
back masked (every byte XOR 0x5A, as kek bench's own no-crypto line does: right length, changed
like a rewrap's, no crypto), to show the Python driver's cost of the same statements.
Needs: pip install "psycopg[binary]>=3.2" cryptography

Environment: PEER_DSN, PEER_ROOT_KEYS (KEK_ROOT_KEYS format), PEER_OLD_KEK, PEER_NEW_KEK,
PEER_BATCH, PEER_LOCK_SQL, PEER_MOVE_SQL, PEER_CRYPTO.
Prints "rows seconds" on the last line.
"""
import base64
import os
import time

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LAST_ID = 2**63 - 1


def open_envelope(aead, envelope, aad):
    if len(envelope) < 29 or envelope[0] != 1:
        raise ValueError("not an envelope v1")
    return aead.decrypt(envelope[1:13], envelope[13:], aad)


def seal(aead, plaintext, aad):
    nonce = os.urandom(12)
    return b"\x01" + nonce + aead.encrypt(nonce, plaintext, aad)


def kek_ciphers(conn, roots, ids):
    ciphers = {}
    for kek_id, root_id, wrapped in conn.execute(
            "SELECT id, root_key_id, wrapped_key FROM keks WHERE id = ANY($1)", (ids,)):
        root = AESGCM(base64.b64decode(roots[root_id]))
        ciphers[kek_id] = AESGCM(open_envelope(root, bytes(wrapped), f"kek/v1|kek={kek_id}|root={root_id}".encode()))
    return ciphers


MASK = bytes(value ^ 0x5A for value in range(256))


def main():
    env = os.environ
    roots = dict(entry.strip().split(":", 1) for entry in env["PEER_ROOT_KEYS"].split(",") if entry.strip())
    old_id, new_id = int(env["PEER_OLD_KEK"]), int(env["PEER_NEW_KEK"])
    batch, crypto = int(env["PEER_BATCH"]), env.get("PEER_CRYPTO") == "1"
    lock_sql, move_sql = env["PEER_LOCK_SQL"], env["PEER_MOVE_SQL"]
    with psycopg.connect(env["PEER_DSN"], autocommit=True, prepare_threshold=None,
                         cursor_factory=psycopg.RawCursor) as conn:
        keks = kek_ciphers(conn, roots, [old_id, new_id])
        old, new = keks[old_id], keks[new_id]
        started, total, after = time.monotonic(), 0, 0
        cursor = conn.cursor()
        while True:
            with conn.transaction():
                rows = cursor.execute(lock_sql, (old_id, after, LAST_ID, batch), binary=True).fetchall()
                if not rows:
                    break
                ids = [row[0] for row in rows]
                before = [bytes(row[1]) for row in rows]
                if crypto:
                    after_keys = [seal(new, open_envelope(old, wrapped, f"dek/v1|dek={dek}|kek={old_id}".encode()),
                                       f"dek/v1|dek={dek}|kek={new_id}".encode()) for dek, wrapped in zip(ids, before)]
                else:
                    after_keys = [wrapped.translate(MASK) for wrapped in before]
                cursor.execute(move_sql, (new_id, ids, before, after_keys, old_id, min(ids), max(ids)))
            total += len(rows)
            after = rows[-1][0]
        print(total, time.monotonic() - started)


if __name__ == "__main__":
    main()
