"""What an https connection is checked against: the operating system's certificate store as well
as a CA bundle (certifi's, or --ca-bundle / REQUESTS_CA_BUNDLE), loaded once per process.

Loading a store is slow with OpenSSL 3: 25 to 45 ms for a distribution's 140 CAs here, and it
was paid twice on every new connection. urllib3 loads requests' bundle into the context each time
it wraps a socket, and truststore, on Linux, loads the system's store on each wrap as well. Here
each is loaded once, into one context per bundle. On macOS and Windows truststore's context is
kept: there the OS's own verifier checks the chain after the handshake (with the bundle's CAs as
well), and setting up a connection loads nothing.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import ssl
import stat
import sys

# Where distributions keep their CA bundle, for a Python whose OpenSSL looks elsewhere
# (a build made on another system): Debian and Ubuntu, Fedora and RHEL, Alpine and Arch, SUSE.
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
)
HASHED_NAME = re.compile(r"[0-9a-fA-F]{8}\.[0-9]+")  # `5ad8a5d6.0`: a certificate in a folder OpenSSL reads


@functools.lru_cache(maxsize=4)
def trust_context(cafile: str | None) -> ssl.SSLContext:
    """A client context trusting the system's store and `cafile` (None: the system's alone).
    The same context for the same bundle, process-wide; a bundle that cannot be read raises
    OSError or ssl.SSLError."""
    context = _system_context()
    if cafile is not None:
        refuse_stream(cafile)
        context.load_verify_locations(cafile)
    return context


def refuse_stream(path: str) -> None:
    """OSError(EINVAL) for a FIFO, a socket or a device named as a CA bundle: OpenSSL's read of it
    may never end (a FIFO that no one writes to held `kbchat ask` for good). A missing or unreadable
    file is left to the load, which says so."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise OSError(errno.EINVAL, "a pipe or a device, not a file")


def _system_context() -> ssl.SSLContext:
    if sys.platform in ("darwin", "win32"):
        try:
            import truststore
        except ImportError:  # a platform truststore does not support: the store OpenSSL is given
            pass
        else:
            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_default_certs()  # OpenSSL's default file and folder (and, on Windows, the system's store)
    if sys.platform != "win32" and not _openssl_has_defaults():
        for bundle in SYSTEM_BUNDLES:
            if os.path.isfile(bundle):
                context.load_verify_locations(bundle)
                break
    return context


def _openssl_has_defaults() -> bool:
    """Whether OpenSSL's default file exists, or its default folder holds hashed certificates."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile:  # set only when the file exists
        return True
    if not paths.capath or not os.path.isdir(paths.capath):
        return False
    return any(HASHED_NAME.fullmatch(name) for name in os.listdir(paths.capath))
