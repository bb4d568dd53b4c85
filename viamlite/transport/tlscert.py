"""Self-signed TLS certificates for a machine that has none configured.

Made with ``cryptography`` for ``localhost``, the loopback addresses and this host's names,
and kept under the user's viamlite home so clients see the same certificate across restarts.
"""
from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger("viamlite.tls")

#: Regenerated this long before it expires.
RENEW_BEFORE = datetime.timedelta(days=30)
VALID_FOR = datetime.timedelta(days=825)


def viamlite_home() -> Path:
    """``$VIAMLITE_HOME``, else ``~/.viamlite``."""
    return Path(os.environ.get("VIAMLITE_HOME") or Path.home() / ".viamlite")


def host_names() -> list[str]:
    """``localhost``, the loopback addresses and this host's names and addresses."""
    names = ["localhost", "127.0.0.1", "::1"]
    for name in (socket.gethostname(), socket.getfqdn()):
        if name and name not in names:
            names.append(name)
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            addr = str(info[4][0]).split("%")[0]
            if addr not in names:
                names.append(addr)
    except OSError:
        pass
    return names


def generate(names: list[str]) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``names`` and its key: (certificate PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "viamlite (self-signed)")])
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + VALID_FOR)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _usable(cert_pem: bytes, names: list[str]) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    covered = {str(v) for v in san.get_values_for_type(x509.IPAddress)} | set(san.get_values_for_type(x509.DNSName))
    fresh = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc) > RENEW_BEFORE
    return fresh and set(names) <= covered


def self_signed(home: Path | None = None) -> tuple[bytes, bytes, Path]:
    """This host's self-signed certificate, made on first use and kept under ``home``/tls:
    (certificate PEM, key PEM, the certificate's path). Renewed when it nears expiry or the
    host's names change."""
    folder = (home or viamlite_home()) / "tls"
    cert_path, key_path = folder / "self-signed.crt", folder / "self-signed.key"
    names = host_names()
    if cert_path.exists() and key_path.exists():
        cert, key = cert_path.read_bytes(), key_path.read_bytes()
        if _usable(cert, names):
            return cert, key, cert_path
    cert, key = generate(names)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    cert_path.write_bytes(cert)
    log.info("made a self-signed TLS certificate for %s: %s", ", ".join(names), cert_path)
    return cert, key, cert_path
