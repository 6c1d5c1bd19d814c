#!/bin/sh
# mkcerts.sh DIR -- a test PKI for hflow's TLS tests, made with the openssl
# command line (OpenSSL 3.0).  EC P-256 keys (fast), one RSA 2048 leaf for the
# key-type display.  Idempotent: when DIR/stamp matches this script's version
# nothing is redone; otherwise the files are made afresh.
#
# Files in DIR (NAME.crt certificate, NAME.key key, PEM):
#   ca             the test CA (trust anchor: --cacert DIR/ca.crt)
#   capath/        ca.crt under its hash name (for --capath)
#   valid          localhost, hflow.test, IP 127.0.0.1, IP ::1
#   rsa            as valid, with an RSA 2048 key
#   expired        localhost, 127.0.0.1; valid 2020-01-01 .. 2021-01-01
#   notyet         localhost, 127.0.0.1; valid from 2099-01-01
#   wronghost      only DNS other.test
#   wild           DNS *.wild.test
#   iponly         only IP 127.0.0.1
#   nameonly       only DNS localhost (must fail for https://127.0.0.1)
#   selfsigned     localhost, 127.0.0.1, self-signed
#   unknownca      localhost, 127.0.0.1, signed by a CA nobody trusts
#   badchain       localhost, 127.0.0.1, signed by an intermediate (inter)
#                  that the server does not send; badchain-full.crt holds
#                  leaf + intermediate (a good chain)
#   clientca       the CA a server requiring client certificates trusts
#   client         a client certificate (CN=hflow client); client.pem holds
#                  cert + key; client-enc.key is the key encrypted with the
#                  password in client-enc.pass ("s3cret pass")
#   valid.pub.pem / valid.pub.der   valid's public key; valid.pin holds
#                  "sha256//BASE64" of it (curl's --pinnedpubkey)
set -eu

VERSION=3
DIR=${1:?usage: mkcerts.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$VERSION" ]; then
    exit 0
fi

OSSL=${OPENSSL:-openssl}
W=$DIR/work
rm -rf "$W" "$DIR/capath"
mkdir -p "$W" "$DIR/capath"
rm -f "$DIR"/*.crt "$DIR"/*.key "$DIR"/*.pem "$DIR"/*.der "$DIR"/*.pin "$DIR"/*.pass

eckey() {   # eckey FILE
    "$OSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1" 2>/dev/null
}

# A minimal `openssl ca` configuration: one database per signing CA.
# -startdate/-enddate on the command line override the defaults.
caconf() {   # caconf NAME (CA files DIR/NAME.crt/.key)
    d=$W/db-$1
    mkdir -p "$d"
    : >"$d/index.txt"
    echo 1000 >"$d/serial"
    cat >"$W/$1.cnf" <<EOF
[ ca ]
default_ca = this_ca
[ this_ca ]
dir           = $d
database      = $d/index.txt
serial        = $d/serial
new_certs_dir = $d
certificate   = $DIR/$1.crt
private_key   = $DIR/$1.key
default_md    = sha256
default_days  = 3650
policy        = any
unique_subject = no
copy_extensions = none
email_in_dn   = no
[ any ]
commonName    = supplied
organizationName = optional
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \${ENV::HF_SAN}
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# A self-signed CA: mkca NAME "CN"
mkca() {
    eckey "$DIR/$1.key"
    "$OSSL" req -new -x509 -key "$DIR/$1.key" -out "$DIR/$1.crt" -days 3650 \
        -subj "/O=hflow tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    caconf "$1"
}

# sign CA NAME "CN" "SAN" [EXT [openssl ca options...]]: DIR/NAME.key + .crt
sign() {
    ca=$1 name=$2 cn=$3 san=$4
    ext=${5:-leaf}
    shift 4
    [ $# -gt 0 ] && shift
    [ -f "$DIR/$name.key" ] || eckey "$DIR/$name.key"
    "$OSSL" req -new -key "$DIR/$name.key" -subj "/CN=$cn" \
        -out "$W/$name.csr" 2>/dev/null
    HF_SAN=${san:-DNS:unused.invalid} "$OSSL" ca -batch -notext \
        -config "$W/$ca.cnf" -extensions "$ext" -in "$W/$name.csr" \
        -out "$DIR/$name.crt" "$@" 2>"$W/$name.err" || {
        cat "$W/$name.err" >&2
        exit 1
    }
}

LOCAL="DNS:localhost,IP:127.0.0.1"

mkca ca "hflow test CA"
mkca otherca "unknown test CA"
mkca clientca "hflow client CA"

sign ca valid localhost "DNS:localhost,DNS:hflow.test,IP:127.0.0.1,IP:::1"
"$OSSL" genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$DIR/rsa.key" 2>/dev/null
sign ca rsa localhost "DNS:localhost,DNS:hflow.test,IP:127.0.0.1,IP:::1"
sign ca expired expired.test "$LOCAL" leaf \
    -startdate 20200101000000Z -enddate 20210101000000Z
sign ca notyet notyet.test "$LOCAL" leaf \
    -startdate 20990101000000Z -enddate 21000101000000Z
sign ca wronghost other.test "DNS:other.test"
sign ca wild "*.wild.test" "DNS:*.wild.test"
sign ca iponly iponly.test "IP:127.0.0.1"
sign ca nameonly localhost "DNS:localhost"
sign otherca unknownca localhost "$LOCAL"

# bad chain: CA -> inter -> leaf; the server is given only the leaf
sign ca inter "hflow test intermediate" "" inter
caconf inter
sign inter badchain localhost "$LOCAL"
cat "$DIR/badchain.crt" "$DIR/inter.crt" >"$DIR/badchain-full.crt"

# self-signed leaf
eckey "$DIR/selfsigned.key"
"$OSSL" req -new -x509 -key "$DIR/selfsigned.key" -out "$DIR/selfsigned.crt" \
    -days 3650 -subj "/CN=selfsigned.test" \
    -addext "subjectAltName=$LOCAL" 2>/dev/null

# client certificate, plain and with an encrypted key
sign clientca client "hflow client" "" client
cat "$DIR/client.crt" "$DIR/client.key" >"$DIR/client.pem"
printf '%s' "s3cret pass" >"$DIR/client-enc.pass"
"$OSSL" pkey -in "$DIR/client.key" -aes256 -passout "file:$DIR/client-enc.pass" \
    -out "$DIR/client-enc.key" 2>/dev/null

# the pin of valid's public key
"$OSSL" pkey -in "$DIR/valid.key" -pubout -out "$DIR/valid.pub.pem"
"$OSSL" pkey -in "$DIR/valid.key" -pubout -outform DER -out "$DIR/valid.pub.der"
printf 'sha256//%s\n' "$("$OSSL" dgst -sha256 -binary "$DIR/valid.pub.der" |
    "$OSSL" base64 -A)" >"$DIR/valid.pin"

# --capath: the CA under its subject hash
cp "$DIR/ca.crt" "$DIR/capath/ca.crt"
h=$("$OSSL" x509 -in "$DIR/ca.crt" -noout -subject_hash)
ln -s ca.crt "$DIR/capath/$h.0"

chmod 600 "$DIR"/*.key
rm -rf "$W"
echo "$VERSION" >"$DIR/stamp"
