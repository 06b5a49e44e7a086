#!/usr/bin/python3
"""An independent PKCS#11 client (Debian's python3-pykcs11) for the HSM root key tests.

It reads what kek wrote using only the documented contract: envelope v1
(0x01 | 12-byte nonce | ciphertext | 16-byte tag) and the AAD kek/v1|kek=<id>|root=<root id>,
decrypted inside the token with CKM_AES_GCM. The PIN comes from KEK_PKCS11_PIN; the token
store from SOFTHSM2_CONF. It never prints key bytes: only fingerprints (first 8 hex digits of
SHA-256, the same as kek's key fingerprints).

  open-keks MODULE TOKEN OBJECT ROOT_ID   stdin: '<kek id> <hex envelope>' lines
  read-value MODULE TOKEN OBJECT          asks for CKA_VALUE; prints 'refused <CKR code>' or 'readable'
  make-extractable MODULE TOKEN OBJECT    creates an AES-256 key that may leave the token (a bad key)
"""
import hashlib
import os
import sys

import PyKCS11


def session_for(module, token):
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == token:
            session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
            session.login(os.environ["KEK_PKCS11_PIN"])
            return lib, session
    sys.exit(f"no token {token}")


def key(session, label):
    found = session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY), (PyKCS11.CKA_LABEL, label)])
    if len(found) != 1:
        sys.exit(f"{len(found)} keys labelled {label}")
    return found[0]


def open_keks(session, label, root_id):
    handle = key(session, label)
    for line in sys.stdin:
        kek_id, text = line.split()
        envelope = bytes.fromhex(text)
        assert envelope[0] == 1 and len(envelope) == 1 + 12 + 32 + 16, "not an envelope v1 of a 32-byte key"
        aad = f"kek/v1|kek={kek_id}|root={root_id}".encode()
        mechanism = PyKCS11.AES_GCM_Mechanism(envelope[1:13], aad, 128)
        plaintext = bytes(session.decrypt(handle, envelope[13:], mechanism))
        print(kek_id, hashlib.sha256(plaintext).hexdigest()[:8])


def read_value(session, label):
    # PyKCS11 turns CKR_ATTRIBUTE_SENSITIVE into a None value rather than an exception.
    try:
        value = session.getAttributeValue(key(session, label), [PyKCS11.CKA_VALUE], allAsBinary=True)[0]
    except PyKCS11.PyKCS11Error as error:
        print("refused", PyKCS11.CKR[error.value])
        return
    print("refused CKR_ATTRIBUTE_SENSITIVE" if value is None else "readable")


def make_extractable(session, label):
    template = [
        (PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES),
        (PyKCS11.CKA_VALUE_LEN, 32), (PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_TOKEN, True),
        (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SENSITIVE, False), (PyKCS11.CKA_EXTRACTABLE, True),
        (PyKCS11.CKA_ENCRYPT, True), (PyKCS11.CKA_DECRYPT, True),
    ]
    session.generateKey(template, PyKCS11.Mechanism(PyKCS11.CKM_AES_KEY_GEN, None))
    print("created", label)


def main():
    command, module, token, label = sys.argv[1:5]
    lib, session = session_for(module, token)
    try:
        if command == "open-keks":
            open_keks(session, label, sys.argv[5])
        elif command == "read-value":
            read_value(session, label)
        elif command == "make-extractable":
            make_extractable(session, label)
        else:
            sys.exit(f"unknown command {command}")
    finally:
        session.logout()
        session.closeSession()


if __name__ == "__main__":
    main()
