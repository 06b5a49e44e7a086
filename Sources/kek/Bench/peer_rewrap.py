"""The rewrap a team without kek would write: the comparison peer of `kek bench --peer`.

Batched SELECT ... FOR UPDATE, AES-256-GCM unwrap under the old KEK and wrap under the new
one (same envelope v1 and AAD strings as kek, see DESIGN.md), one UPDATE per row, one
transaction per batch. Needs: pip install "psycopg[binary]" cryptography

Environment: PEER_DSN (libpq connection string), PEER_ROOT_KEYS (KEK_ROOT_KEYS format),
PEER_OLD_KEK, PEER_NEW_KEK, PEER_BATCH. Prints "rows seconds" on the last line.
"""
import base64
import os
import time

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def open_envelope(key, envelope, aad):
    if len(envelope) < 29 or envelope[0] != 1:
        raise ValueError("not an envelope v1")
    return AESGCM(key).decrypt(envelope[1:13], envelope[13:], aad)


def seal(key, plaintext, aad):
    nonce = os.urandom(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def main():
    roots = dict(entry.strip().split(":", 1) for entry in os.environ["PEER_ROOT_KEYS"].split(",") if entry.strip())
    old_id, new_id, batch = int(os.environ["PEER_OLD_KEK"]), int(os.environ["PEER_NEW_KEK"]), int(os.environ["PEER_BATCH"])
    with psycopg.connect(os.environ["PEER_DSN"]) as conn:
        keks = {}
        for kek_id, root_id, wrapped in conn.execute(
                "SELECT id, root_key_id, wrapped_key FROM keks WHERE id = ANY(%s)", ([old_id, new_id],)):
            root = base64.b64decode(roots[root_id])
            keks[kek_id] = open_envelope(root, bytes(wrapped), f"kek/v1|kek={kek_id}|root={root_id}".encode())
        conn.commit()
        started, total, after = time.monotonic(), 0, 0
        while True:
            with conn.transaction():
                rows = conn.execute(
                    "SELECT id, wrapped_key FROM data_keys WHERE kek_id = %s AND id > %s ORDER BY id LIMIT %s FOR UPDATE",
                    (old_id, after, batch)).fetchall()
                if not rows:
                    break
                with conn.cursor() as cursor:
                    for dek_id, wrapped in rows:
                        dek = open_envelope(keks[old_id], bytes(wrapped), f"dek/v1|dek={dek_id}|kek={old_id}".encode())
                        cursor.execute("UPDATE data_keys SET kek_id = %s, wrapped_key = %s WHERE id = %s",
                                       (new_id, seal(keks[new_id], dek, f"dek/v1|dek={dek_id}|kek={new_id}".encode()), dek_id))
                total += len(rows)
                after = rows[-1][0]
        print(total, time.monotonic() - started)


if __name__ == "__main__":
    main()
