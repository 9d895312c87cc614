#!/bin/sh
# tls_peer.sh [--path-prefix=P] COMMAND...: runs COMMAND with a TLS server outside
# it, for test executables that cannot start one themselves (the Windows
# build under Wine cannot run the Linux `openssl`). It makes the test
# certificates with the openssl command line, starts `openssl s_server -rev`
# (each line answered reversed; ALPN http/1.1) on a loopback port, and
# passes both on:
#   PROACT_TLS_TEST_DIR          the certificates (P before it:
#                                "Z:" under Wine, where / is drive Z:)
#   PROACT_TLS_TEST_SERVER_PORT  the server's port on 127.0.0.1
# Files: ca.pem, server.pem, server.key, server.pfx (PKCS#12, no password),
# other-ca.pem. The server and the files go when COMMAND exits.
set -u
prefix=
case ${1:-} in
  --path-prefix=*)
    prefix=${1#--path-prefix=}
    shift
    ;;
esac
dir=$(mktemp -d "${TMPDIR:-/tmp}/proact-tls-peer.XXXXXX") || exit 1
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
# The CAs sign with RSA: Wine 8.0's crypt32 joins an ECDSA signature's r and s
# without padding them to the curve's size, so about one ECDSA signature in 128
# (r or s shorter than 32 bytes) fails to verify there.
key="-newkey rsa:2048 -nodes"
(
  cd "$dir" &&
    openssl req -x509 $key -keyout ca.key -out ca.pem -days 2 -subj /CN=proact-test-ca &&
    openssl req -x509 $key -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=proact-other-ca &&
    # RSA: Wine 8.0's PFXImportCertStore imports RSA keys only.
    openssl req $key -keyout server.key -out server.csr -subj /CN=localhost &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' >ext.cnf &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
      -days 2 -extfile ext.cnf &&
    # The algorithms every Windows imports (OpenSSL 3's default is AES).
    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -out server.pfx \
      -passout pass: -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1
) >"$dir/make.log" 2>&1 || {
  cat "$dir/make.log" >&2
  echo "tls_peer.sh: openssl could not make the test certificates" >&2
  exit 1
}
# A free port: s_server exits at once if it cannot listen.
port=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ))
  openssl s_server -quiet -rev -alpn http/1.1 -accept "127.0.0.1:$p" -cert "$dir/server.pem" \
    -key "$dir/server.key" >"$dir/s_server.log" 2>&1 </dev/null &
  pid=$!
  sleep 0.3
  if kill -0 "$pid" 2>/dev/null; then
    port=$p
    break
  fi
  wait "$pid" 2>/dev/null
  pid=
done
if [ -z "$port" ]; then
  cat "$dir/s_server.log" >&2
  echo "tls_peer.sh: openssl s_server could not listen" >&2
  exit 1
fi
PROACT_TLS_TEST_DIR=$prefix$dir PROACT_TLS_TEST_SERVER_PORT=$port "$@"
rc=$?
exit $rc
