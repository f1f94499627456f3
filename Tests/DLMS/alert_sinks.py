#!/usr/bin/env python3
"""Local receivers for the station's alerts, so nothing leaves the machine in tests.

  python3 alert_sinks.py --secret-file SECRET --out DIR

Starts an SMTP sink (aiosmtpd) and an HTTP receiver on free loopback ports, writes
DIR/ports.json ({"smtp": N, "http": N}) when ready, and appends every message it receives to
DIR/received.jsonl. The HTTP receiver checks each webhook as a real receiver must: the
X-Signature is HMAC-SHA256 over "X-Timestamp." + the raw body under the shared secret, the
timestamp is within 5 minutes, and an X-Event-Id seen before is acknowledged but not counted
twice. /sms records what an SMS gateway would get. Runs until killed.
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

parser = argparse.ArgumentParser()
parser.add_argument("--secret-file", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()
secret = open(args.secret_file, "rb").read().strip()
lock = threading.Lock()
seen = set()


def record(entry):
    with lock:
        with open(os.path.join(args.out, "received.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")


class Mail:
    async def handle_DATA(self, server, session, envelope):
        record({"channel": "email", "from": envelope.mail_from, "to": envelope.rcpt_tos,
                "body": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        record({"channel": "sms", "method": "GET", "path": self.path})
        self.send_response(200); self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/sms"):
            record({"channel": "sms", "method": "POST", "path": self.path, "body": body.decode()})
            self.send_response(200); self.end_headers(); return
        ts = self.headers.get("X-Timestamp", "")
        sig = self.headers.get("X-Signature", "")
        event = self.headers.get("X-Event-Id", "")
        expected = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = ts.isdigit() and abs(time.time() - int(ts)) <= 300
        if not hmac.compare_digest(sig, expected) or not fresh:
            record({"channel": "webhook", "verified": False, "event": event})
            self.send_response(401); self.end_headers(); return
        with lock:
            duplicate = event in seen
            seen.add(event)
        if not duplicate:
            record({"channel": "webhook", "verified": True, "event": event, "body": json.loads(body)})
        self.send_response(204); self.end_headers()


http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=http.serve_forever, daemon=True).start()
# aiosmtpd checks its port by connecting to it, so it needs a real one: take a free port first.
import socket
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
smtp_port = probe.getsockname()[1]
probe.close()
smtp = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
smtp.start()
with open(os.path.join(args.out, "ports.json.tmp"), "w") as f:
    json.dump({"smtp": smtp_port, "http": http.server_address[1]}, f)
os.rename(os.path.join(args.out, "ports.json.tmp"), os.path.join(args.out, "ports.json"))
while True:
    time.sleep(3600)
