# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway PKI for test servers: one CA, and server certificates for 127.0.0.1 / localhost.

Keys are EC P-256 (fast to make); everything is written as PEM files, the form the registry,
skopeo (``--cert-dir`` with ``ca.crt``), Python's ssl module and urllib3 all read.
"""

from __future__ import annotations

import atexit
import datetime
import ipaddress
import os
import shutil
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class KeyPair:
    """A certificate and its private key, as PEM files."""

    cert_path: str
    key_path: str


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


class CertificateAuthority:
    """A self-signed CA living in ``directory`` (``ca.crt``, ``ca.key``)."""

    def __init__(self, directory: str, name: str = "airgap.operatorhub test CA"):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = os.path.join(directory, "ca.crt")
        self.key_path = os.path.join(directory, "ca.key")
        _write(self.cert_path, self.cert.public_bytes(serialization.Encoding.PEM))
        _write(self.key_path, _private_pem(self.key), 0o600)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue_server_cert(self, directory: str, name: str = "server",
                          hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> KeyPair:
        """Write ``<name>.crt`` / ``<name>.key`` in ``directory`` for the given IPs and DNS names."""
        os.makedirs(directory, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        pair = KeyPair(os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key"))
        _write(pair.cert_path, cert.public_bytes(serialization.Encoding.PEM))
        _write(pair.key_path, _private_pem(key), 0o600)
        return pair


def issue_client_cert(ca: "CertificateAuthority", directory: str, name: str = "client") -> KeyPair:
    """Write ``<name>.cert`` / ``<name>.key`` (a TLS client certificate, as podman's certs.d
    names them) in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"airgap-test-{name}")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    pair = KeyPair(os.path.join(directory, f"{name}.cert"), os.path.join(directory, f"{name}.key"))
    _write(pair.cert_path, cert.public_bytes(serialization.Encoding.PEM))
    _write(pair.key_path, _private_pem(key), 0o600)
    return pair


def _private_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


_default_ca: CertificateAuthority | None = None


def default_ca() -> CertificateAuthority:
    """The process-wide throwaway CA (in a temp dir removed at exit) that test servers share.

    One root for every server of a test session means a client configured with ``ca_path`` of
    one registry also trusts the fault proxy in front of it and the token server beside it.
    """
    global _default_ca
    if _default_ca is None:
        directory = tempfile.mkdtemp(prefix="airgap-test-ca-")
        atexit.register(shutil.rmtree, directory, True)
        _default_ca = CertificateAuthority(directory)
    return _default_ca
