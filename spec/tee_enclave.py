#!/usr/bin/python3
"""An enclave emulator for spec/tee_spec.lua, independent of venice-lua: its crypto is
python3-cryptography's (plus a Keccak-256 and secp256k1 point arithmetic written here).

  /usr/bin/python3 spec/tee_enclave.py --port-file F [--parent-pid PID]

It listens on 127.0.0.1 (a free port, written to F) and serves, under any prefix (/api/v1):
  GET  /tee/attestation?model=M&nonce=HEX64   a synthetic attestation: a TDX v4 quote whose
                                              REPORTDATA is address || 12 zero bytes || nonce, signed
                                              by an attestation key certified by a test CA chain
  GET  /tee/signature?model=M&request_id=ID   a personal_sign record of the completion by the enclave key
  POST /chat/completions                      decrypts the user/system messages sent to the enclave
                                              key and streams an answer encrypted to the client key
Control (at the root):
  POST /_mode {"mode": ..., "shape": "flat"|"evidence"}   the variant of what follows:
       ok | wrong_nonce | debug | mismatched_address | swapped_key | corrupt_chunk |
       plaintext_chunk | wrong_key_chunk | bad_signature | unknown_signature |
       replay (a genuine capture of spec/fixtures/tee/, whatever the nonce)
  GET  /_ca        the test root CA (PEM)
  GET  /_log       what reached the server: requests, headers, decrypted messages, the answer's
                   plaintext pieces
  POST /_reset     clears the log, mode ok
"""
import argparse, hashlib, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
import datetime

# ---------------------------------------------------------------- Keccak-256 (original padding)
_RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
       0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
       0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
       0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
       0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
       0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56],
        [27, 20, 39, 8, 14]]
_M64 = (1 << 64) - 1


def _rol(x, n):
    return ((x << n) | (x >> (64 - n))) & _M64 if n else x


def _keccak_f(A):
    for rc in _RC:
        C = [A[x][0] ^ A[x][1] ^ A[x][2] ^ A[x][3] ^ A[x][4] for x in range(5)]
        D = [C[(x - 1) % 5] ^ _rol(C[(x + 1) % 5], 1) for x in range(5)]
        A = [[A[x][y] ^ D[x] for y in range(5)] for x in range(5)]
        B = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                B[y][(2 * x + 3 * y) % 5] = _rol(A[x][y], _ROT[x][y])
        A = [[B[x][y] ^ ((~B[(x + 1) % 5][y]) & B[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        A[0][0] ^= rc
    return A


def keccak256(data):
    rate = 136
    p = bytearray(data) + b'\x01'
    p += b'\x00' * ((-len(p)) % rate)
    p[-1] |= 0x80
    A = [[0] * 5 for _ in range(5)]
    for off in range(0, len(p), rate):
        blk = p[off:off + rate]
        for i in range(rate // 8):
            A[i % 5][i // 5] ^= int.from_bytes(blk[8 * i:8 * i + 8], 'little')
        A = _keccak_f(A)
    return b''.join(A[i % 5][i // 5].to_bytes(8, 'little') for i in range(4))


assert keccak256(b'').hex() == 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
assert keccak256(b'abc').hex() == '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45'

# ---------------------------------------------------------------- secp256k1 points (for v of r||s||v)
_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
      0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _add(a, b):
    if a is None: return b
    if b is None: return a
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0: return None
    if a == b:
        l = 3 * a[0] * a[0] * pow(2 * a[1], -1, _P) % _P
    else:
        l = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (l * l - a[0] - b[0]) % _P
    return (x, (l * (a[0] - x) - a[1]) % _P)


def _mul(k, pt):
    r = None
    while k:
        if k & 1: r = _add(r, pt)
        pt = _add(pt, pt)
        k >>= 1
    return r


def _recover(z, r, s, v):
    x = r
    y2 = (pow(x, 3, _P) + 7) % _P
    y = pow(y2, (_P + 1) // 4, _P)
    if y % 2 != v: y = _P - y
    R = (x, y)
    rinv = pow(r, -1, _N)
    Q = _add(_mul(s * rinv % _N, R), _mul((-z * rinv) % _N, _G))
    return Q


def pub65(key):
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def address(pub):
    return keccak256(pub[1:])[-20:]


def personal_sign(key, text):
    msg = text.encode()
    z_bytes = keccak256(b'\x19Ethereum Signed Message:\n' + str(len(msg)).encode() + msg)
    der = key.sign(z_bytes, ec.ECDSA(Prehashed(hashes.SHA256())))
    r, s = decode_dss_signature(der)
    if s > _N // 2: s = _N - s          # low s, as Ethereum wants
    z = int.from_bytes(z_bytes, 'big')
    pub = pub65(key)
    want = (int.from_bytes(pub[1:33], 'big'), int.from_bytes(pub[33:], 'big'))
    for v in (0, 1):
        if _recover(z, r, s, v) == want:
            return r.to_bytes(32, 'big') + s.to_bytes(32, 'big') + bytes([27 + v])
    raise RuntimeError('no recovery id')

# ---------------------------------------------------------------- E2EE format


def _aes_key(priv, peer_pub):
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), peer_pub)
    shared = priv.exchange(ec.ECDH(), peer)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b'ecdsa_encryption').derive(shared)


def encrypt_for(peer_pub, plaintext):
    eph = ec.generate_private_key(ec.SECP256K1())
    nonce = os.urandom(12)
    ct = AESGCM(_aes_key(eph, peer_pub)).encrypt(nonce, plaintext.encode(), None)
    return (pub65(eph) + nonce + ct).hex()


def decrypt_with(priv, hexblob):
    blob = bytes.fromhex(hexblob)
    if len(blob) < 65 + 12 + 16: raise ValueError('too short')
    return AESGCM(_aes_key(priv, blob[:65])).decrypt(blob[65:77], blob[77:], None).decode()

# ---------------------------------------------------------------- the test CA and the quote


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'venice-lua test enclave'),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_key, subject, issuer_key, issuer, ca):
    now = datetime.datetime.utcnow()
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(issuer_key, hashes.SHA256())


def _rs(der):
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, 'big') + s.to_bytes(32, 'big')


class Enclave:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256K1())          # the E2EE / signing key
        self.other = ec.generate_private_key(ec.SECP256K1())        # a key that is not attested
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.pck_key = ec.generate_private_key(ec.SECP256R1())
        self.ak = ec.generate_private_key(ec.SECP256R1())           # the quote's attestation key
        root_name = _name('Test SGX Root CA')
        ca_name = _name('Test SGX PCK Platform CA')
        self.root = _cert(self.root_key, root_name, self.root_key, root_name, True)
        self.ca = _cert(self.ca_key, ca_name, self.root_key, root_name, True)
        self.pck = _cert(self.pck_key, _name('Test SGX PCK Certificate'), self.ca_key, ca_name, False)

    def pem(self, c):
        return c.public_bytes(serialization.Encoding.PEM)

    def quote(self, report_data, debug=False):
        header = (4).to_bytes(2, 'little') + (2).to_bytes(2, 'little') + (0x81).to_bytes(4, 'little')
        header += b'\x00' * 4 + bytes.fromhex('939a7233f79c4ca9940a0db3957f0607') + b'\x00' * 20
        assert len(header) == 48
        body = bytearray(584)
        body[168 - 48:176 - 48] = (1 if debug else 0).to_bytes(8, 'little')   # TDATTRIBUTES, bit 0 = DEBUG
        body[568 - 48:632 - 48] = report_data
        signed = header + bytes(body)
        sig = _rs(self.ak.sign(signed, ec.ECDSA(hashes.SHA256())))
        ak_pub = pub65(self.ak)[1:]
        qe_auth = os.urandom(32)
        qe_report = bytearray(384)
        qe_report[320:352] = hashlib.sha256(ak_pub + qe_auth).digest()
        qe_sig = _rs(self.pck_key.sign(bytes(qe_report), ec.ECDSA(hashes.SHA256())))
        chain = self.pem(self.pck) + self.pem(self.ca) + self.pem(self.root)
        inner = (5).to_bytes(2, 'little') + len(chain).to_bytes(4, 'little') + chain
        cert6 = bytes(qe_report) + qe_sig + len(qe_auth).to_bytes(2, 'little') + qe_auth + inner
        sigdata = sig + ak_pub + (6).to_bytes(2, 'little') + len(cert6).to_bytes(4, 'little') + cert6
        return signed + len(sigdata).to_bytes(4, 'little') + sigdata


STATE = {'mode': 'ok', 'shape': 'flat', 'log': []}
LOCK = threading.Lock()
ENCLAVE = Enclave()
ATTESTED = set()        # request ids answered, for /tee/signature


GENUINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'tee', 'attestation_gemma_3_27b_p.json')


def attestation(model, nonce_hex):
    mode = STATE['mode']
    if mode == 'replay':
        # a genuine attestation of a real enclave, replayed whatever the nonce: its key is not ours
        with open(GENUINE) as f:
            return json.load(f)['attestation']
    pub = pub65(ENCLAVE.key)
    addr = address(pub)
    nonce = bytes.fromhex(nonce_hex)
    if mode == 'wrong_nonce':
        nonce = bytes(b ^ 0xff for b in nonce)
    rd_addr = address(pub65(ENCLAVE.other)) if mode == 'mismatched_address' else addr
    q = ENCLAVE.quote(rd_addr + b'\x00' * 12 + nonce, debug=(mode == 'debug'))
    addr_hex = '0x' + addr.hex()
    echo = nonce.hex()
    if STATE['shape'] == 'evidence':
        return {
            'api_version': 'aci/1', 'model': model, 'signing_address': addr_hex, 'signing_algo': 'ecdsa',
            'intel_quote': q.hex(), 'verified': True, 'nonce': echo, 'nonce_source': 'client',
            'tee_provider': 'emulator', 'tee_hardware': 'intel-tdx',
            'attestation': {
                'tee_type': 'tdx',
                'report_data': (rd_addr + b'\x00' * 12 + nonce).hex(),
                'workload_keyset': {'e2ee_public_keys': [
                    {'key_id': 'e2ee-x25519', 'algo': 'x25519-aes-256-gcm-hkdf-sha256', 'public_key': os.urandom(32).hex()},
                    {'key_id': 'e2ee-v1', 'algo': 'secp256k1-aes-256-gcm-hkdf-sha256', 'public_key': pub.hex()},
                ]},
                'evidence': {'quote': q.hex()},
            },
        }
    return {
        'verified': True, 'nonce': echo, 'request_nonce': echo, 'model': model, 'tee_provider': 'emulator',
        'tee_hardware': 'intel-tdx', 'signing_address': addr_hex,
        # swapped_key: the address and the quote are the enclave key's, the key offered another's
        'signing_public_key': (pub65(ENCLAVE.other) if mode == 'swapped_key' else pub).hex(),
        'signing_algo': 'ecdsa', 'intel_quote': q.hex(),
        # what a client must never trust: the server's own opinion
        'server_verification': {'tdx': {'valid': True, 'reportData': (addr + b'\x00' * 12 + nonce).hex()}},
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def _json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self, entry):
        with LOCK:
            STATE['log'].append(entry)

    def _body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def do_GET(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        path = u.path
        if path == '/_ca':
            data = ENCLAVE.pem(ENCLAVE.root)
            self.send_response(200)
            self.send_header('Content-Type', 'application/x-pem-file')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if path == '/_log':
            with LOCK:
                return self._json(200, STATE['log'])
        auth = self.headers.get('Authorization')
        if path.endswith('/tee/attestation'):
            self._log({'path': '/tee/attestation', 'query': q, 'auth': auth})
            if not auth: return self._json(401, {'error': 'Authentication failed'})
            nonce = q.get('nonce', '')
            if len(nonce) != 64:
                return self._json(400, {'error': 'Nonce must be exactly 32 bytes'})
            return self._json(200, attestation(q.get('model'), nonce))
        if path.endswith('/tee/signature'):
            self._log({'path': '/tee/signature', 'query': q, 'auth': auth})
            rid = q.get('request_id', '')
            text = '%s:%s:%s' % (q.get('model'), rid, hashlib.sha256(rid.encode()).hexdigest())
            key = ENCLAVE.other if STATE['mode'] == 'bad_signature' else ENCLAVE.key
            sig = personal_sign(key, text)
            rec = {'text': text, 'signature': '0x' + sig.hex(), 'signing_address': '0x' + address(pub65(ENCLAVE.key)).hex(),
                   'signing_algo': 'ecdsa', 'model': q.get('model'), 'requested_request_id': rid}
            if STATE['mode'] == 'unknown_signature':
                rec = {'receipt': {'sig': 'abc'}, 'signing_algo': 'ed25519', 'text': text}
            return self._json(200, rec)
        self._json(404, {'error': 'not found'})

    def do_POST(self):
        u = urlparse(self.path)
        raw = self._body()
        if u.path == '/_mode':
            b = json.loads(raw or b'{}')
            with LOCK:
                STATE['mode'] = b.get('mode', 'ok')
                STATE['shape'] = b.get('shape', 'flat')
            return self._json(200, {'mode': STATE['mode'], 'shape': STATE['shape']})
        if u.path == '/_reset':
            with LOCK:
                STATE.update(mode='ok', shape='flat', log=[])
            return self._json(200, {})
        if not u.path.endswith('/chat/completions'):
            return self._json(404, {'error': 'not found'})
        h = {k.lower(): v for k, v in self.headers.items()}
        entry = {'path': '/chat/completions', 'headers': {k: v for k, v in h.items() if k.startswith('x-venice-tee')},
                 'auth': h.get('authorization'), 'raw': raw.decode('utf-8', 'replace')}
        self._log(entry)
        body = json.loads(raw)
        entry['stream'] = body.get('stream')
        if body.get('stream') is not True:
            return self._json(400, {'error': 'E2EE requires streaming'})
        client_hex = h.get('x-venice-tee-client-pub-key', '')
        model_hex = h.get('x-venice-tee-model-pub-key', '')
        entry['signing_algo'] = h.get('x-venice-tee-signing-algo')
        if len(client_hex) != 130 or client_hex != client_hex.lower() or not client_hex.startswith('04'):
            return self._json(400, {'error': 'Invalid public key'})
        if model_hex.lower().removeprefix('04') != pub65(ENCLAVE.key).hex()[2:]:
            return self._json(400, {'error': 'Invalid public key'})
        try:
            client_pub = bytes.fromhex(client_hex)
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), client_pub)
        except ValueError:
            return self._json(400, {'error': 'Invalid public key'})
        plain = []
        for m in body.get('messages', []):
            if m.get('role') in ('user', 'system'):
                c = m.get('content')
                try:
                    int(c, 16)
                except (TypeError, ValueError):
                    return self._json(400, {'error': 'Encrypted field is not valid hex'})
                try:
                    plain.append({'role': m['role'], 'content': decrypt_with(ENCLAVE.key, c)})
                except Exception:
                    return self._json(400, {'error': 'Failed to decrypt field'})
            else:
                plain.append(m)
        entry['decrypted'] = plain
        last = [m['content'] for m in plain if m['role'] == 'user'][-1:] or ['']
        pieces = ['You said: ', last[0][:200], ' \u2014 ', 'from the enclave.']
        entry['answer'] = pieces
        mode = STATE['mode']
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Connection', 'close')
        self.end_headers()
        rid = 'chatcmpl-emu-%d' % int(time.time() * 1000)
        for i, p in enumerate(pieces):
            if mode == 'plaintext_chunk' and i == 2:
                content = p
            elif mode == 'wrong_key_chunk' and i == 2:
                content = encrypt_for(pub65(ENCLAVE.other), p)
            else:
                content = encrypt_for(client_pub, p)
                if mode == 'corrupt_chunk' and i == 2:
                    b = bytearray.fromhex(content)
                    b[-20] ^= 0x01
                    content = b.hex()
            chunk = {'id': rid, 'object': 'chat.completion.chunk', 'created': int(time.time()),
                     'model': body.get('model'), 'choices': [{'index': 0, 'delta': {'content': content},
                                                              'finish_reason': None}]}
            if i == 0: chunk['choices'][0]['delta']['role'] = 'assistant'
            self.wfile.write(b'data: ' + json.dumps(chunk).encode() + b'\n\n')
            self.wfile.flush()
        end = {'id': rid, 'object': 'chat.completion.chunk', 'created': int(time.time()), 'model': body.get('model'),
               'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}],
               'usage': {'prompt_tokens': 5, 'completion_tokens': 4, 'total_tokens': 9}}
        self.wfile.write(b'data: ' + json.dumps(end).encode() + b'\n\n')
        self.wfile.write(b'data: [DONE]\n\n')
        self.wfile.flush()
        self.close_connection = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--parent-pid', type=int)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    tmp = a.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    if a.parent_pid:
        def watch():
            while True:
                time.sleep(0.5)
                try:
                    os.kill(a.parent_pid, 0)
                except OSError:
                    os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    srv.serve_forever()


if __name__ == '__main__':
    main()
