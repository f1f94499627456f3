#!/usr/bin/env python3
"""Third-party DLMS/COSEM client check for the STS meter simulator.

gurux-dlms (GXDLMSClient / GXDLMSSecureClient) is used only to build and parse
APDUs; the IEC 62056-4-7 TCP wrapper transport is our own, so every raw byte is
seen. gurux does not verify AES-GCM tags, so this script verifies the tag of
every ciphered APDU the server sends (and, as a self-check, of every one gurux
sends), checks that the server's invocation counter strictly increases, and
checks the AARE's responding-AP-title.

  python3 gurux_client.py --host 127.0.0.1 --port PORT --keys KEYS.json \
      --token 20DIGITS [--expect-credit-increase] [--max-pdu N] [--trace]

Prints a JSON report on stdout; exit 0 only if every check passed, otherwise a
message per failure on stderr and exit 1.
"""
import argparse
import contextlib
import io
import json
import socket
import sys
import traceback

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gurux_dlms import (GXByteBuffer, GXDLMSClient, GXDLMSConfirmedServiceError,
                        GXDLMSExceptionResponse, GXReplyData)
from gurux_dlms.enums import (Authentication, Conformance, DataType, InterfaceType,
                              Security)
from gurux_dlms.objects import GXDLMSData, GXDLMSObject
from gurux_dlms.secure import GXDLMSSecureClient

SERVER_SAP, PUBLIC_SAP, MGMT_SAP = 1, 16, 1
SC_AUTH_ENC = 0x30                     # security control: suite 0, auth + enc
GENERAL_GLO = 0xDB
GLO_REQ = {0x21: 0x01, 0xC8: 0xC0, 0xC9: 0xC1, 0xCB: 0xC3}           # glo tag -> plain
GLO_RESP = {0x28: 0x08, 0xCC: 0xC4, 0xCD: 0xC5, 0xCF: 0xC7, 0x2E: 0x0E}
RESPONSE_FOR = {0xC0: 0xC4, 0xC1: 0xC5, 0xC3: 0xC7, 0x60: 0x61, 0x62: 0x63}
ERROR_APDUS = (0xD8, 0x0E)             # exception-response, confirmed-service-error
DENIED = {3: "read-write-denied", 13: "scope-of-access-violated"}
HLS_GMAC_MECHANISM = bytes.fromhex("60857405080205")
CONFORMANCE_NAMES = {getattr(Conformance, n): n.lower() for n in dir(Conformance)
                     if n.isupper() and n != "NONE" and not n.startswith("RESERVED")}
OBJ = {  # key: (OBIS, class id)
    "association": ("0.0.40.0.0.255", 15), "clock": ("0.0.1.0.0.255", 8),
    "ic_data": ("0.0.43.1.0.255", 1), "energy": ("1.0.1.8.0.255", 3),
    "power": ("1.0.1.7.0.255", 3), "token_gateway": ("0.0.19.40.0.255", 115),
    "credit": ("0.0.19.10.0.255", 112), "account": ("0.0.19.0.0.255", 111),
    "disconnect": ("0.0.96.3.10.255", 70), "load_profile": ("1.0.99.1.0.255", 7),
    "event_log": ("0.0.99.98.0.255", 7),
}


class Fatal(Exception):
    """The run cannot go on (transport, crypto or association failure)."""


class StepFailed(Exception):
    """The current step cannot go on; the association is still usable."""


# ---------------------------------------------------------------- encodings
def read_len(buf, pos):
    """A-XDR / BER definite length at buf[pos]; returns (length, next pos)."""
    if pos >= len(buf):
        raise Fatal("truncated length field")
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    n = first & 0x7F
    if n not in (1, 2, 4) or pos + 1 + n > len(buf):
        raise Fatal(f"bad length encoding 0x{first:02X}")
    return int.from_bytes(buf[pos + 1:pos + 1 + n], "big"), pos + 1 + n


def parse_acse(apdu):
    """AARQ/AARE/RLRQ/RLRE: {tag: value} of the top-level BER components."""
    length, pos = read_len(apdu, 1)
    if pos + length != len(apdu):
        raise Fatal(f"ACSE APDU 0x{apdu[0]:02X}: length {length} but {len(apdu) - pos} bytes")
    fields, body = {}, apdu[pos:]
    pos = 0
    while pos < len(body):
        tag = body[pos]
        length, pos = read_len(body, pos + 1)
        if pos + length > len(body):
            raise Fatal(f"ACSE component 0x{tag:02X} overruns the APDU")
        fields[tag] = bytes(body[pos:pos + length])
        pos += length
    return fields


def user_information(fields):
    """Content of the user-information (0xBE: 04 len xDLMS-APDU) or None."""
    v = fields.get(0xBE)
    if v is None:
        return None
    if len(v) < 2 or v[0] != 0x04:
        raise Fatal("user-information is not an OCTET STRING")
    length, pos = read_len(v, 1)
    return v[pos:pos + length]


def jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def conformance_names(bits):
    return sorted(name for bit, name in CONFORMANCE_NAMES.items() if bits & bit)


# -------------------------------------------------------------------- crypto
def gcm_open(ek, ak, system_title, content):
    """content = SC || IC(4) || ciphertext || tag(12). Verifies the tag."""
    sc, ic_bytes, ct, tag = content[0], content[1:5], content[5:-12], content[-12:]
    dec = Cipher(algorithms.AES(ek),
                 modes.GCM(system_title + ic_bytes, tag, min_tag_length=12)).decryptor()
    dec.authenticate_additional_data(bytes([sc]) + ak)
    return dec.update(ct) + dec.finalize()


def gmac(ek, ak, system_title, ic, data):
    """HLS-GMAC tag: GCM over no plaintext, AAD = 0x10 || AK || data, 12 bytes."""
    enc = Cipher(algorithms.AES(ek), modes.GCM(system_title + ic.to_bytes(4, "big"))).encryptor()
    enc.authenticate_additional_data(bytes([0x10]) + ak + data)
    enc.finalize()
    return enc.tag[:12]


def form(tag):
    return "general-glo" if tag == GENERAL_GLO else "glo" if tag in GLO_REQ or tag in GLO_RESP else "plain"


# ------------------------------------------------------------------ sessions
class Session:
    """One association over its own TCP connection."""

    def __init__(self, run, client, sap, ciphered):
        self.run, self.client, self.sap, self.ciphered = run, client, sap, ciphered
        self.acse = None            # parsed ACSE fields of the last AARE/RLRE
        self.block_responses = 0    # get-response-with-datablock APDUs seen
        try:
            self.sock = socket.create_connection((run.args.host, run.args.port), run.args.timeout)
        except OSError as e:
            raise Fatal(f"cannot connect to {run.args.host}:{run.args.port}: {e}") from e

    def close(self):
        self.sock.close()

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout as e:
                raise Fatal(f"timeout waiting for the server ({len(buf)}/{n} bytes)") from e
            if not chunk:
                raise Fatal(f"server closed the connection ({len(buf)}/{n} bytes)")
            buf += chunk
        return buf

    def _unwrap(self, frame, src, dst, who):
        """Check the 62056-4-7 header (version 1, wPorts, length); return the APDU."""
        ver, s, d, length = (int.from_bytes(frame[i:i + 2], "big") for i in (0, 2, 4, 6))
        if ver != 1 or s != src or d != dst or length != len(frame) - 8 or length == 0:
            raise Fatal(f"{who} wrapper header {frame[:8].hex()}: expected version 1, "
                        f"source {src}, destination {dst}, length {len(frame) - 8}")
        return frame[8:]

    def _open(self, apdu, system_title, label):
        """Verify/decrypt a glo- or general-glo-ciphered APDU; returns (plain, IC)."""
        pos = 1
        if apdu[0] == GENERAL_GLO:
            st_len, pos = read_len(apdu, pos)
            if apdu[pos:pos + st_len] != system_title:
                raise Fatal(f"{label}: general-glo-ciphering system title "
                            f"{apdu[pos:pos + st_len].hex()} != {system_title.hex()}")
            pos += st_len
        length, pos = read_len(apdu, pos)
        content = apdu[pos:]
        if len(content) != length or length < 17:
            raise Fatal(f"{label}: ciphered length {length} but {len(content)} bytes follow")
        ic = int.from_bytes(content[1:5], "big")
        if content[0] != SC_AUTH_ENC:
            raise Fatal(f"{label}: security control 0x{content[0]:02X}, expected 0x30")
        try:
            return gcm_open(self.run.ek, self.run.ak, system_title, content), ic
        except InvalidTag as e:
            raise Fatal(f"{label}: GCM tag of APDU 0x{apdu[0]:02X} (IC {ic}) does not verify") from e

    def _plain_of(self, apdu, system_title, label, server):
        """Plain xDLMS APDU of a request/response; ACSE APDUs get their
        ciphered user-information verified. Returns (plain APDU, outer tag)."""
        tag = apdu[0]
        if tag in (0x60, 0x61, 0x62, 0x63):
            fields = parse_acse(apdu)
            info = user_information(fields)
            if server:
                self.acse = fields
            if info and form(info[0]) != "plain":
                if not self.ciphered:
                    self.run.fail(f"{label}: ciphered user-information in a public association")
                plain, ic = self._open(info, system_title, label)
                if server:
                    self.run.server_ic(ic, label)
                    self.acse["initiate"] = plain
            return apdu, tag
        if form(tag) == "plain":
            if self.ciphered and tag not in ERROR_APDUS:
                self.run.fail(f"{label}: plain APDU 0x{tag:02X} in the ciphered association")
            return apdu, tag
        if not self.ciphered:
            raise Fatal(f"{label}: ciphered APDU 0x{tag:02X} in the public association")
        plain, ic = self._open(apdu, system_title, label)
        if server:
            self.run.server_ic(ic, label)
        if tag in GLO_RESP and GLO_RESP[tag] != plain[0] or tag in GLO_REQ and GLO_REQ[tag] != plain[0]:
            self.run.fail(f"{label}: glo tag 0x{tag:02X} wraps APDU 0x{plain[0]:02X}")
        return plain, tag

    def exchange(self, frame, reply, label):
        """Send one gurux-built frame, receive, check and hand the reply to gurux."""
        frame = bytes(frame)
        req = self._unwrap(frame, self.sap, SERVER_SAP, f"{label} request")
        try:  # self-check: gurux's own ciphering must verify with our verifier
            req_plain, req_tag = self._plain_of(req, self.run.client_st, label + " (own request)", False)
        except Fatal as e:
            raise Fatal(f"client self-check failed, harness bug: {e}") from e
        self.run.trace("TX", label, frame)
        self.sock.sendall(frame)
        header = self._recv(8)
        resp_frame = header + self._recv(int.from_bytes(header[6:8], "big"))
        self.run.trace("RX", label, resp_frame)
        apdu = self._unwrap(resp_frame, SERVER_SAP, self.sap, f"{label} response")
        if len(apdu) > self.run.max_pdu:
            self.run.fail(f"{label}: {len(apdu)}-byte APDU exceeds the client's max PDU {self.run.max_pdu}")
        plain, tag = self._plain_of(apdu, self.run.server_st, label, True)
        if plain[0] in (0xD8, 0x0E):
            pass  # gurux raises a specific exception below
        elif plain[0] != RESPONSE_FOR.get(req_plain[0]):
            raise Fatal(f"{label}: response APDU 0x{plain[0]:02X} to request 0x{req_plain[0]:02X}")
        elif plain[0] in (0xC4, 0xC5, 0xC7) and plain[2] != req_plain[2]:
            self.run.fail(f"{label}: invoke-id-and-priority 0x{plain[2]:02X} != 0x{req_plain[2]:02X}")
        if form(tag) != form(req_tag) and plain[0] not in (0x61, 0x63):
            self.run.fail(f"{label}: request sent {form(req_tag)}, response came {form(tag)}")
        if plain[0] == 0xC4 and plain[1] == 0x02:
            self.block_responses += 1
        if not self.client.getData(GXByteBuffer(resp_frame), reply, GXReplyData()):
            raise Fatal(f"{label}: gurux did not take the response as a complete reply")

    def _transact(self, frames, label):
        reply = GXReplyData()
        for f in frames:
            self.exchange(f, reply, label)
        n = 1
        while reply.isMoreData():            # GET/ACTION block transfer
            n += 1
            self.exchange(self.client.receiverReady(reply), reply, f"{label} block#{n}")
        return reply

    def associate(self):
        reply = self._transact(self.client.aarqRequest(), "AARQ")
        self.client.parseAareResponse(reply.data)
        return self.acse

    def get(self, key, attr):
        ln, cid = OBJ[key]
        reply = self._transact(self.client.read(GXDLMSObject(cid, ln), attr), f"GET {ln} a{attr}")
        return reply

    def get_ok(self, key, attr):
        reply = self.get(key, attr)
        if reply.error:
            raise StepFailed(f"GET {OBJ[key][0]} attr {attr}: data-access-result {reply.error}")
        return reply.value, reply.valueType

    def action(self, key, method, value, dtype):
        ln, cid = OBJ[key]
        return self._transact(self.client.method(GXDLMSObject(cid, ln), method, value, dtype),
                              f"ACTION {ln} m{method}")

    def release(self):
        self._transact(self.client.releaseRequest(), "RLRQ")   # exchange() demands an RLRE
        reason = self.acse.get(0x80)                               # release-response-reason
        return {"rlre_reason": reason[-1] if reason else None}


# ---------------------------------------------------------------------- run
class Run:
    def __init__(self, args):
        self.args, self.failures, self.steps, self.server_ics = args, [], {}, []
        with open(args.keys) as f:
            keys = json.load(f)
        self.server_st = bytes.fromhex(keys["server_system_title"])
        self.client_st = bytes.fromhex(keys["client_system_title"])
        self.ak = bytes.fromhex(keys["authentication_key"])
        self.ek = bytes.fromhex(keys["block_cipher_key"])
        if (len(self.server_st), len(self.client_st), len(self.ak), len(self.ek)) != (8, 8, 16, 16):
            raise Fatal("keys file: system titles must be 8 bytes, keys 16 bytes")
        if not (len(args.token) == 20 and args.token.isdigit()):
            raise Fatal("--token must be exactly 20 decimal digits")
        self.max_pdu = args.max_pdu

    def fail(self, msg):
        self.failures.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)
        return bool(cond)

    def trace(self, direction, label, frame):
        if self.args.trace:
            print(f"{direction} {label}: {frame.hex()}", file=sys.stderr)

    def server_ic(self, ic, label):
        if self.server_ics and ic <= self.server_ics[-1][0]:
            self.fail(f"{label}: server invocation counter {ic} does not increase "
                      f"(previous {self.server_ics[-1][0]} at {self.server_ics[-1][1]})")
        self.server_ics.append((ic, label))

    def aare_checks(self, acse, ciphered):
        """Checks on the raw AARE; returns a summary for the report."""
        result = acse.get(0xA2, b"")[-1:] or None
        diag = acse.get(0xA3, b"")[-1:] or None
        title = acse.get(0xA4)
        out = {"application_context": acse.get(0xA1, b"?")[-1],
               "result": result and result[0], "diagnostic": diag and diag[0],
               "responding_ap_title": title and title[2:].hex()}
        self.check(out["result"] == 0, f"AARE result {out['result']}, expected 0 (accepted)")
        if ciphered:
            self.check(out["application_context"] == 3, "AARE application context is not LN-with-ciphering (3)")
            self.check(title is not None and title[:2] == b"\x04\x08" and title[2:] == self.server_st,
                       f"AARE responding-AP-title {out['responding_ap_title']} != {self.server_st.hex()}")
            self.check(out["diagnostic"] == 14, f"AARE diagnostic {out['diagnostic']}, expected 14 (authentication-required)")
            self.check(acse.get(0x89) == HLS_GMAC_MECHANISM, "AARE mechanism-name is not HLS-GMAC (5)")
            stoc = acse.get(0xAA, b"")[2:]
            self.check(8 <= len(stoc) <= 64, f"AARE StoC challenge length {len(stoc)} not in 8..64")
            self.check("initiate" in acse, "AARE user-information is not a glo-initiateResponse")
            order = list(acse)   # gurux needs the AP-title before it meets the ciphered user-information
            self.check(0xA4 in order and 0xBE in order and order.index(0xA4) < order.index(0xBE),
                       "AARE responding-AP-title (A4) must precede user-information (BE)")
            out["stoc_len"] = len(stoc)
        else:
            self.check(out["application_context"] == 1, "public AARE application context is not LN (1)")
            if title is not None:
                self.check(title[2:] == self.server_st, "public AARE responding-AP-title != server system title")
        return out

    def negotiated(self, client, required):
        neg, prop = int(client.negotiatedConformance), int(client.proposedConformance)
        self.check(neg & ~prop == 0, f"negotiated conformance 0x{neg:06X} has bits not proposed (0x{prop:06X})")
        for bit in required:
            self.check(neg & bit, f"negotiated conformance lacks {CONFORMANCE_NAMES[bit]}")
        return {"conformance": conformance_names(neg), "server_max_pdu": client.maxReceivePDUSize}

    # --------------------------------------------------------------- steps
    def step_public(self, post_run=False):
        client = GXDLMSClient(True, PUBLIC_SAP, SERVER_SAP, Authentication.NONE, None, InterfaceType.WRAPPER)
        client.maxReceivePDUSize = self.max_pdu
        s = Session(self, client, PUBLIC_SAP, ciphered=False)
        try:
            out = {"aare": self.aare_checks(s.associate(), False)}
            out.update(self.negotiated(client, [Conformance.GET]))
            value, vtype = s.get_ok("ic_data", 2)
            self.check(vtype == DataType.UINT32, f"0.0.43.1.0.255 attr 2 type {vtype}, expected double-long-unsigned")
            out["mgmt_invocation_counter"] = value
            if not post_run:  # the public client must not be able to SET or ACT
                d = GXDLMSData(OBJ["ic_data"][0])
                d.setDataType(2, DataType.UINT32)
                d.value = value
                out["set_refused"] = self.refused(lambda: s._transact(client.write(d, 2), "SET (public)"), "SET")
                out["action_refused"] = self.refused(lambda: s.action("disconnect", 1, 0, DataType.INT8), "ACTION")
            out["release"] = s.release()
            return out
        finally:
            s.close()

    def refused(self, call, what):
        try:
            reply = call()
        except (GXDLMSExceptionResponse, GXDLMSConfirmedServiceError) as e:
            return f"refused by {type(e).__name__}: {e}"
        self.check(reply.error in DENIED, f"public {what} got result {reply.error}, expected "
                   "read-write-denied (3) or scope-of-access-violated (13)")
        return DENIED.get(reply.error, f"NOT REFUSED (result {reply.error})")

    def step_management_associate(self, mgmt):
        s = mgmt
        out = {"client_ic_start": s.client.ciphering.invocationCounter,
               "aare": self.aare_checks(s.associate(), True)}
        out.update(self.negotiated(s.client, [Conformance.GET, Conformance.ACTION]))
        if not s.client.isAuthenticationRequired:
            raise Fatal("AARE did not ask for HLS authentication (pass 3/4 impossible)")
        reply = s._transact(s.client.getApplicationAssociationRequest(), "HLS pass 3")
        if reply.error:
            raise Fatal(f"HLS pass 3 refused: action-result {reply.error}")
        f_ctos = bytes(reply.value or b"")
        if len(f_ctos) != 17 or f_ctos[0] != 0x10:
            raise Fatal(f"HLS pass 4: f(CtoS) {f_ctos.hex()} is not 0x10 || IC || 12-byte GMAC")
        ic = int.from_bytes(f_ctos[1:5], "big")
        expected = gmac(self.ek, self.ak, self.server_st, ic, bytes(s.client.ctoSChallenge))
        if f_ctos[5:] != expected:
            raise Fatal("HLS pass 4: f(CtoS) GMAC does not verify")
        used = [x for x, _ in self.server_ics]
        self.check(ic not in used and (not used or ic > used[0]), f"f(CtoS) invocation counter {ic} reuses or precedes {used}")
        s.client.parseApplicationAssociationResponse(reply.data)   # gurux's own check too
        out["f_ctos_ic"] = ic
        return out

    def step_object_list(self, s):
        value, _ = s.get_ok("association", 2)
        present = {(".".join(str(b) for b in e[2]), e[0]) for e in value}
        missing = [f"{ln} (class {cid})" for ln, cid in OBJ.values() if (ln, cid) not in present]
        self.check(not missing, f"object list lacks {missing}")
        return {"entries": len(value), "missing": missing, "blocks": s.block_responses}

    def step_readings(self, s):
        out = {}
        for key, unit, name in (("energy", 30, "Wh"), ("power", 27, "W")):
            out[key], _ = s.get_ok(key, 2)
            su, _ = s.get_ok(key, 3)          # scaler_unit: structure {integer, enum}
            out[key + "_scaler_unit"] = su
            if self.check(isinstance(su, list) and len(su) == 2 and su[1] == unit,
                          f"{key} scaler_unit {jsonable(su)}, expected unit {unit} ({name})"):
                if isinstance(out[key], int):
                    out[key + "_" + name] = out[key] * 10 ** su[0]
        clock, vtype = s.get_ok("clock", 2)
        if self.check(vtype == DataType.OCTET_STRING and len(clock) == 12, "clock time is not octet-string(12)"):
            clock = str(GXDLMSClient.changeType(clock, DataType.DATETIME))
        out["clock"] = clock
        out["credit"], vtype = s.get_ok("credit", 2)
        self.check(vtype == DataType.INT32, f"credit type {vtype}, expected double-long")
        return out

    def step_token(self, s, credit_before):
        reply = s.action("token_gateway", 1, self.args.token.encode("ascii"), DataType.OCTET_STRING)
        if reply.error:
            raise StepFailed(f"token enter: action-result {reply.error}")
        out = {"enter_result": reply.value}
        self.check(isinstance(reply.value, list) and len(reply.value) == 2 and reply.value[0] == 3,
                   f"token enter returned {jsonable(reply.value)}, expected {{3 (token execution OK), text}}")
        out["token_status"], _ = s.get_ok("token_gateway", 6)
        self.check(isinstance(out["token_status"], list) and out["token_status"][0] == 3, f"token_status {jsonable(out['token_status'])}, expected code 3")
        out["credit_before"] = credit_before
        out["credit_after"], _ = s.get_ok("credit", 2)
        if self.args.expect_credit_increase:
            self.check(credit_before is not None and out["credit_after"] > credit_before,
                       f"credit did not increase: {credit_before} -> {out['credit_after']}")
        return out

    def step_disconnect(self, s):
        out = {"control_mode": s.get("disconnect", 4).value}
        for method, name, state, ctl in ((1, "remote_disconnect", False, 0), (2, "remote_reconnect", True, 1)):
            reply = s.action("disconnect", method, 0, DataType.INT8)
            if reply.error:
                raise StepFailed(f"{name}: action-result {reply.error}")
            out[name] = {"output_state": s.get_ok("disconnect", 2)[0], "control_state": s.get_ok("disconnect", 3)[0]}
            self.check(out[name] == {"output_state": state, "control_state": ctl},
                       f"after {name}: {out[name]}, expected output_state {state}, control_state {ctl}")
        return out

    def step_profiles(self, s):
        out = {}
        for key in ("load_profile", "event_log"):
            before = s.block_responses
            value, _ = s.get_ok(key, 2)
            self.check(isinstance(value, list), f"{key} buffer is not an array")
            out[key] = {"entries": len(value or []), "blocks": s.block_responses - before}
        if s.block_responses:
            self.check(int(s.client.negotiatedConformance) & Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ,
                       "server used GET block transfer without negotiating it")
        return out

    def execute(self):
        def step(name, fn, *a):
            try:
                self.steps[name] = fn(*a)
            except StepFailed as e:
                self.fail(f"{name}: {e}")
                self.steps[name] = {"error": str(e)}
            return self.steps.get(name)

        public = step("1_public", self.step_public)
        if not public or "mgmt_invocation_counter" not in public:
            raise Fatal("cannot read the management client's invocation counter")
        mgmt_client = GXDLMSSecureClient(True, MGMT_SAP, SERVER_SAP, Authentication.HIGH_GMAC,
                                         None, InterfaceType.WRAPPER)
        mgmt_client.maxReceivePDUSize = self.max_pdu
        c = mgmt_client.ciphering
        c.security, c.systemTitle = Security.AUTHENTICATION_ENCRYPTION, self.client_st
        c.authenticationKey, c.blockCipherKey = self.ak, self.ek
        c.invocationCounter = public["mgmt_invocation_counter"] + 1
        if c.invocationCounter > 0xFFFFFFF0:
            raise Fatal("management invocation counter exhausted")
        s = Session(self, mgmt_client, MGMT_SAP, ciphered=True)
        try:
            step("2_management_association", self.step_management_associate, s)
            step("3_object_list", self.step_object_list, s)
            readings = step("4_readings", self.step_readings, s) or {}
            step("5_token", self.step_token, s, readings.get("credit"))
            step("6_disconnect_control", self.step_disconnect, s)
            step("7_profiles", self.step_profiles, s)
            step("8_release", s.release)
        finally:
            s.close()
        last_ic = c.invocationCounter - 1        # IC of the last ciphered APDU we sent
        post = step("9_counter_persisted", self.step_public, True)
        if post and "mgmt_invocation_counter" in post:
            self.check(post["mgmt_invocation_counter"] == last_ic,
                       f"meter reports last accepted IC {post['mgmt_invocation_counter']}, we last sent {last_ic}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--expect-credit-increase", action="store_true")
    ap.add_argument("--max-pdu", type=int, default=0xFFFF, help="client max receive PDU size proposed in the AARQ")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--trace", action="store_true", help="hex dump every frame on stderr")
    args = ap.parse_args()
    try:
        run = Run(args)
    except (Fatal, OSError, ValueError, KeyError) as e:
        print(f"gurux_client: bad arguments or keys file: {e!r}", file=sys.stderr)
        return 1
    gurux_chatter = sys.stderr if args.trace else io.StringIO()   # gurux print()s to stdout
    try:
        with contextlib.redirect_stdout(gurux_chatter):
            run.execute()
    except Fatal as e:
        run.fail(f"fatal: {e}")
    except Exception as e:  # gurux raised while parsing: the server's bytes were not acceptable
        run.fail(f"fatal: {type(e).__name__}: {e}")
        if args.trace:
            traceback.print_exc()
    if run.failures and not args.trace:
        noise = ("Encryption is applied.", "Authentication is applied.")
        sys.stderr.writelines(l for l in gurux_chatter.getvalue().splitlines(True) if l.strip() not in noise)
    report = {"ok": not run.failures, "failures": run.failures, "steps": jsonable_dict(run.steps),
              "server_invocation_counters": [{"ic": ic, "apdu": label} for ic, label in run.server_ics]}
    print(json.dumps(report, indent=2))
    for f in run.failures:
        print(f"gurux_client: FAIL: {f}", file=sys.stderr)
    return 0 if not run.failures else 1


def jsonable_dict(d):
    return {k: (jsonable_dict(v) if isinstance(v, dict) else jsonable(v)) for k, v in d.items()}


if __name__ == "__main__":
    sys.exit(main())
