#!/usr/bin/env python3
"""A point-of-sale client of the Electrum Prepaid Utility Service Interface v3, written only from
the interface's published documentation (electrumpayments/prepaidutility-service-interface:
protocol basics, transaction flows, models), not from the station's code: what an aggregator's
developer would write. It drives every resource the station offers and checks each answer
against what the documentation says, then writes the tokens it was given (per meter, in the order
they were issued) to --out, for the caller to enter on simulated meters.

Usage: pusi_client.py --url BASE --client NAME --secret-file F --out tokens.json --meter M
       --debt-meter M --fixed-meter M --card-meter M --blocked-meter M --kc-meter M --min CENTS --max CENTS
Exit 0 when every check held; otherwise 1, each failed check on stderr.
"""
import argparse, base64, json, sys, urllib.error, urllib.request, uuid
from datetime import datetime, timezone

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


class PUSI:
    def __init__(self, base, client, secret):
        self.base = base.rstrip("/") + "/prepaidutility/v3"
        self.auth = "Basic " + base64.b64encode(f"{client}:{secret}".encode()).decode()

    def post(self, path, body, auth=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST")
        req.add_header("Content-Type", content_type)
        req.add_header("Accept", "application/json")
        if auth is not False:
            req.add_header("Authorization", auth or self.auth)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                text = r.read()
                return r.status, (json.loads(text) if text else None), dict(r.headers)
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = None
            return e.code, parsed, dict(e.headers)


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(mid):
    """The Transaction members every request carries (protocol basics: ids are v4 UUIDs)."""
    return {
        "id": mid,
        "time": now(),
        "originator": {
            "institution": {"id": "1234", "name": "Corner Retail"},
            "terminalId": "T0000042",
            "merchant": {"merchantId": "000000000000777", "merchantType": "5411",
                         "merchantName": {"name": "Corner Shop", "city": "Cape Town", "region": "WC", "country": "ZA"}},
        },
        "client": {"id": "1234", "name": "Corner Retail"},
        "settlementEntity": {"id": "5678", "name": "Retail Settlement"},
        "thirdPartyIdentifiers": [{"institutionId": "1234", "transactionIdentifier": mid[:8]}],
    }


def new_id():
    return str(uuid.uuid4())


def purchase_body(mid, meter, cents, currency="710"):
    b = envelope(mid)
    b.update({"meter": {"meterId": meter}, "purchaseAmount": {"amount": cents, "currency": currency}, "utilityType": "Electricity"})
    return b


def error_type(body):
    return (body or {}).get("errorType")


def tokens_of(body):
    return [t["token"] for t in (body or {}).get("tokens") or []]


def main():
    p = argparse.ArgumentParser()
    for name in ["url", "client", "secret-file", "out", "meter", "debt-meter", "fixed-meter", "card-meter", "blocked-meter", "kc-meter", "min", "max"]:
        p.add_argument("--" + name, required=True)
    a = p.parse_args()
    secret = open(a.secret_file).read().strip()
    api = PUSI(a.url, a.client, secret)
    issued = {}

    def keep(meter, body):
        issued.setdefault(meter, []).extend(tokens_of(body))

    # --- lookup ---
    lid = new_id()
    body = envelope(lid); body["meter"] = {"meterId": a.meter}
    st, r, _ = api.post(f"/meterLookups/{lid}", body)
    check(st == 201, f"meter lookup answers 201, got {st} {r}")
    r = r or {}
    check(r.get("id") == lid and r.get("time") == body["time"], "lookup echoes id and time")
    check(r.get("originator") == body["originator"] and r.get("client") == body["client"], "lookup echoes originator and client")
    check(r.get("thirdPartyIdentifiers") == body["thirdPartyIdentifiers"], "lookup echoes thirdPartyIdentifiers")
    check((r.get("meter") or {}).get("meterId") == a.meter, "lookup names the meter")
    check(len((r.get("meter") or {}).get("supplyGroupCode", "")) == 6, "lookup gives the supply group code")
    check(bool((r.get("customer") or {}).get("lastName")), "lookup names the customer")
    check(bool((r.get("customer") or {}).get("address")), "lookup gives the address for the slip")
    check(bool((r.get("utility") or {}).get("name")), "lookup names the utility")
    check((r.get("minAmount") or {}).get("amount") == int(a.min) and (r.get("maxAmount") or {}).get("amount") == int(a.max), "lookup gives min/max amounts")
    check((r.get("minAmount") or {}).get("currency") == "710", "amounts carry the numeric currency code")
    check(r.get("bsstDue") is True, "free basic electricity is due on the meter")
    arrears_before = (r.get("arrearsAmount") or {}).get("amount")
    check(isinstance(arrears_before, int) and arrears_before > 0, "lookup gives the arrears")

    # --- trial: same answer, no token, no financial effect ---
    tid = new_id()
    st, r, _ = api.post(f"/tokenPurchases/trials/{tid}", purchase_body(tid, a.meter, 10000))
    check(st == 200, f"trial answers 200, got {st} {r}")
    check(not tokens_of(r), "a trial returns no token")
    check(any(c.get("description") for c in (r or {}).get("debtRecoveryCharges") or []), "a trial shows the debt that would be recovered")
    lid = new_id()
    body = envelope(lid); body["meter"] = {"meterId": a.meter}
    st, r, _ = api.post(f"/meterLookups/{lid}", body)
    check((r or {}).get("arrearsAmount", {}).get("amount") == arrears_before, "the trial changed nothing (arrears as before)")

    # --- purchase -> confirm ---
    pid = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{pid}", purchase_body(pid, a.meter, 10000))
    check(st == 201, f"purchase answers 201, got {st} {r}")
    r = r or {}
    types = [t.get("tokenType") for t in r.get("tokens") or []]
    check(types == ["BSST", "STD"], f"the free basic electricity comes as its own BSST token before the STD token, got {types}")
    for t in r.get("tokens") or []:
        check(len(t.get("token", "")) == 20 and t["token"].isdigit(), "a token is 20 digits")
        check(isinstance(t.get("units"), (int, float)) and t["units"] > 0, "a token carries units")
        check("amount" in (t.get("amount") or {}) and (t.get("amount") or {}).get("currency") == "710", "a token has its amount")
    check(any(c.get("description") == "Arrears" for c in r.get("debtRecoveryCharges") or []), "the arrears are itemised")
    check((r.get("taxTotal") or {}).get("amount", 0) > 0, "the tax total is given")
    check(len((r.get("slipData") or {}).get("messageLines") or []) >= 5, "a printable slip comes with it")
    first_tokens = tokens_of(r)
    keep(a.meter, r)
    cid = new_id()
    advice = {"id": cid, "requestId": pid, "time": now(), "thirdPartyIdentifiers": r.get("thirdPartyIdentifiers", []),
              "tenders": [{"tenderType": "CASH", "amount": {"amount": 10000, "currency": "710"}}]}
    st, ar, _ = api.post(f"/tokenPurchases/{pid}/confirmations/{cid}", advice)
    check(st == 202, f"confirmation answers 202, got {st} {ar}")
    st, ar, _ = api.post(f"/tokenPurchases/{pid}/confirmations/{cid}", advice)
    check(st == 202, f"a repeated confirmation answers 202 again, got {st}")
    rid = new_id()
    st, ar, _ = api.post(f"/tokenPurchases/{pid}/reversals/{rid}", {"id": rid, "requestId": pid, "time": now(), "thirdPartyIdentifiers": [],
                                                                    "reversalReason": "CANCELLED"})
    check(st == 400 and error_type(ar) == "TRANSACTION_DECLINED", f"a confirmed purchase's reversal is declined, got {st} {ar}")

    # --- zero amount: the free units were used ---
    zid = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{zid}", purchase_body(zid, a.meter, 0))
    check(st == 400 and error_type(r) == "NO_FREE_UNITS_DUE", f"amount 0 without free units due: NO_FREE_UNITS_DUE, got {st} {r}")

    # --- lost response -> retry returns the same tokens, never new ones ---
    lost = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{lost}", purchase_body(lost, a.debt_meter, 5000))
    check(st == 201, f"purchase on the debt meter answers 201, got {st} {r}")
    original = tokens_of(r)  # what the customer would have had, had the answer arrived
    st, r2, _ = api.post(f"/tokenPurchases/{lost}/retry", purchase_body(lost, a.debt_meter, 5000))
    check(st == 202 and tokens_of(r2) == original and original, f"the retry answers 202 with exactly the issued tokens, got {st}")
    st, r3, _ = api.post(f"/tokenPurchases/{lost}/retry", purchase_body(lost, a.debt_meter, 5000))
    check(st == 202 and tokens_of(r3) == original, "a second retry returns them again")
    check(any(c.get("description") == "Debt recovery" for c in (r2 or {}).get("debtRecoveryCharges") or []), "debt recovery is itemised")
    keep(a.debt_meter, r)
    st, r, _ = api.post(f"/tokenPurchases/{lost}", purchase_body(lost, a.debt_meter, 5000))
    check(st == 400 and error_type(r) == "DUPLICATE_RECORD", f"the same purchase id posted again is a DUPLICATE_RECORD, got {st} {r}")
    st, r, _ = api.post(f"/tokenPurchases/{lost}/retry", purchase_body(lost, a.debt_meter, 6000))
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"a retry that differs from its purchase is refused, got {st} {r}")

    # --- retry of a purchase never received: processed as new ---
    never = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{never}/retry", purchase_body(never, a.debt_meter, 2500))
    check(st == 202 and len(tokens_of(r)) == 1, f"a retry of a purchase never received is sold, got {st} {r}")
    keep(a.debt_meter, r)

    # --- reversal of an unconfirmed purchase (timed out at the POS) ---
    rev = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{rev}", purchase_body(rev, a.fixed_meter, 3000))
    check(st == 201 and tokens_of(r), f"purchase on the fixed-charge meter answers 201, got {st} {r}")
    check(any(c.get("description") == "Fixed monthly charge" for c in (r or {}).get("serviceCharges") or []), "the fixed charge is itemised")
    reversed_tokens = tokens_of(r)
    rid = new_id()
    radv = {"id": rid, "requestId": rev, "time": now(), "thirdPartyIdentifiers": (r or {}).get("thirdPartyIdentifiers", []), "reversalReason": "TIMEOUT"}
    st, ar, _ = api.post(f"/tokenPurchases/{rev}/reversals/{rid}", radv)
    check(st == 202, f"the reversal answers 202, got {st} {ar}")
    st, ar, _ = api.post(f"/tokenPurchases/{rev}/reversals/{rid}", radv)
    check(st == 202, f"a repeated reversal answers 202 again, got {st}")
    st, r, _ = api.post(f"/tokenPurchases/{rev}/retry", purchase_body(rev, a.fixed_meter, 3000))
    check(st == 400 and error_type(r) == "TRANSACTION_DECLINED", f"a reversed purchase is not handed out by a retry, got {st} {r}")
    # A reversal that overtakes its purchase: the purchase is then never made.
    ghost, gid = new_id(), new_id()
    st, ar, _ = api.post(f"/tokenPurchases/{ghost}/reversals/{gid}", {"id": gid, "requestId": ghost, "time": now(), "thirdPartyIdentifiers": [],
                                                                      "reversalReason": "TIMEOUT"})
    check(st == 404 and error_type(ar) == "UNABLE_TO_LOCATE_RECORD", f"a reversal of an unknown purchase: 404, got {st} {ar}")
    st, r, _ = api.post(f"/tokenPurchases/{ghost}", purchase_body(ghost, a.fixed_meter, 3000))
    check(st == 400 and error_type(r) == "TRANSACTION_DECLINED", f"a purchase whose reversal came first is declined, got {st} {r}")
    st, ar, _ = api.post(f"/tokenPurchases/{new_id()}/confirmations/{(c2 := new_id())}",
                         {"id": c2, "requestId": ghost, "time": now(), "thirdPartyIdentifiers": [], "tenders": []})
    check(st == 400 and error_type(ar) == "FORMAT_ERROR", f"an advice whose requestId is not the path's is malformed, got {st} {ar}")

    # --- reprint ---
    rp = new_id()
    body = envelope(rp); body["meter"] = {"meterId": a.meter}
    st, r, _ = api.post(f"/tokenReprints/{rp}", body)
    check(st == 200 and tokens_of(r) == first_tokens, f"a reprint returns the last purchase's tokens, got {st} {tokens_of(r)}")
    check((r or {}).get("id") == rp, "a reprint answers under its own id")
    rp = new_id()
    body = envelope(rp); body["meter"] = {"meterId": a.debt_meter}; body["originalRef"] = lost
    st, r, _ = api.post(f"/tokenReprints/{rp}", body)
    check(st == 200 and tokens_of(r) == original, f"a reprint by originalRef returns that purchase's tokens, got {st}")

    # --- key change tokens ---
    kc = new_id()
    body = envelope(kc); body["meter"] = {"meterId": a.kc_meter}
    st, r, _ = api.post(f"/keyChangeTokenRequests/{kc}", body)
    check(st == 201 and [t.get("tokenType") for t in (r or {}).get("tokens") or []] == ["KC", "KC"], f"key change tokens: two KC tokens, got {st} {r}")
    keep(a.kc_meter, r)
    kcc = new_id()
    st, r, _ = api.post(f"/keyChangeTokenRequests/{kc}/confirmations/{kcc}", {"id": kcc, "requestId": kc, "time": now(), "thirdPartyIdentifiers": []})
    check(st == 501 and error_type(r) == "FUNCTION_NOT_SUPPORTED", f"key change confirmations are not supported: 501, got {st} {r}")

    # --- fault report ---
    fid = new_id()
    body = envelope(fid)
    body.update({"meter": {"meterId": a.meter}, "contactNumber": "0821234567", "faultType": "KEEPS_TRIPPING",
                 "faultDescription": "trips every evening", "customer": {"firstName": "Demo", "lastName": "Tenant"}})
    st, r, _ = api.post(f"/faultReports/{fid}", body)
    check(st == 201 and (r or {}).get("reference"), f"a fault report answers 201 with a reference, got {st} {r}")
    ref = (r or {}).get("reference")
    st, r, _ = api.post(f"/faultReports/{fid}", body)
    check(st == 201 and (r or {}).get("reference") == ref, "a repeated fault report keeps its reference")
    body["faultType"] = "KeepsTripping"; body["id"] = (fid2 := new_id())
    st, r, _ = api.post(f"/faultReports/{fid2}", body)
    check(st == 201, f"the camel-case fault type of the test pack is read too, got {st} {r}")

    # --- refusals ---
    lid = new_id()
    body = envelope(lid); body["meter"] = {"meterId": a.meter}
    st, r, h = api.post(f"/meterLookups/{lid}", body, auth="Basic " + base64.b64encode(f"{a.client}:wrong".encode()).decode())
    check(st == 401 and "basic" in (h.get("WWW-Authenticate") or h.get("www-authenticate") or "").lower(), f"bad credentials: 401 with a Basic challenge, got {st}")
    st, r, _ = api.post(f"/meterLookups/{lid}", body, auth=False)
    check(st == 401, f"no credentials: 401, got {st}")
    unknown = new_id()
    body = envelope(unknown); body["meter"] = {"meterId": "01234567890"}
    st, r, _ = api.post(f"/meterLookups/{unknown}", body)
    check(st == 400 and error_type(r) == "UNKNOWN_METER_ID", f"unknown meter: 400 UNKNOWN_METER_ID, got {st} {r}")
    check((r or {}).get("id") == unknown and (r or {}).get("requestType") == "METER_LOOKUP_REQUEST", "the error names the message and its request type")
    check(len((r or {}).get("errorMessage", "x" * 21)) <= 20, "errorMessage is at most 20 characters")
    u2 = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{u2}", purchase_body(u2, "01234567890", 5000))
    check(st == 400 and error_type(r) == "UNKNOWN_METER_ID", f"purchase for an unknown meter: UNKNOWN_METER_ID, got {st} {r}")
    low = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{low}", purchase_body(low, a.meter, int(a.min) - 1))
    check(st == 400 and error_type(r) == "AMOUNT_TOO_LOW", f"below the minimum: AMOUNT_TOO_LOW, got {st} {r}")
    high = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{high}", purchase_body(high, a.meter, int(a.max) + 1))
    check(st == 400 and error_type(r) == "AMOUNT_TOO_HIGH", f"above the maximum: AMOUNT_TOO_HIGH, got {st} {r}")
    cur = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{cur}", purchase_body(cur, a.meter, 5000, currency="840"))
    check(st == 400 and error_type(r) == "INVALID_AMOUNT", f"another currency: INVALID_AMOUNT, got {st} {r}")
    blk = new_id()
    body = envelope(blk); body["meter"] = {"meterId": a.blocked_meter}
    st, r, _ = api.post(f"/meterLookups/{blk}", body)
    check(st == 400 and error_type(r) == "METER_ID_BLOCKED", f"blocked meter lookup: METER_ID_BLOCKED, got {st} {r}")
    blk = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{blk}", purchase_body(blk, a.blocked_meter, 5000))
    check(st == 400 and error_type(r) == "METER_ID_BLOCKED", f"blocked meter purchase: METER_ID_BLOCKED, got {st} {r}")
    card = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{card}", purchase_body(card, a.card_meter, 5000))
    check(st == 400 and error_type(r) == "TRANSACTION_NOT_SUPPORTED", f"a card meter's purchase: TRANSACTION_NOT_SUPPORTED, got {st} {r}")

    # --- malformed messages ---
    bad = new_id()
    st, r, _ = api.post(f"/tokenPurchases/{bad}", None, raw=b"{not json")
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"not JSON: FORMAT_ERROR, got {st} {r}")
    body = purchase_body(bad, a.meter, 5000); del body["originator"]
    st, r, _ = api.post(f"/tokenPurchases/{bad}", body)
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"no originator: FORMAT_ERROR, got {st} {r}")
    body = purchase_body(new_id(), a.meter, 5000)
    st, r, _ = api.post(f"/tokenPurchases/{bad}", body)
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"body id is not the path's: FORMAT_ERROR, got {st} {r}")
    st, r, _ = api.post("/tokenPurchases/not-a-uuid", purchase_body("not-a-uuid", a.meter, 5000))
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"a path id that is not a UUID: FORMAT_ERROR, got {st} {r}")
    body = purchase_body(bad, a.meter, 5000); body["originator"]["terminalId"] = "T1"
    st, r, _ = api.post(f"/tokenPurchases/{bad}", body)
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"a terminal id that is not 8 characters: FORMAT_ERROR, got {st} {r}")
    body = purchase_body(bad, a.meter, 5000); body["purchaseAmount"]["amount"] = 50.5
    st, r, _ = api.post(f"/tokenPurchases/{bad}", body)
    check(st == 400 and error_type(r) == "FORMAT_ERROR", f"a fractional amount of minor units: FORMAT_ERROR, got {st} {r}")
    st, r, _ = api.post(f"/tokenPurchases/{bad}", purchase_body(bad, a.meter, 5000), content_type="text/plain")
    check(st == 400, f"a body that is not sent as JSON is refused, got {st}")
    # Nothing of the refused ones was sold: the id is still free.
    st, r, _ = api.post(f"/tokenPurchases/{bad}", purchase_body(bad, a.meter, 5000))
    check(st == 201 and len(tokens_of(r)) == 1, f"after refusals the same id sells once, got {st} {r}")
    keep(a.meter, r)

    json.dump({"tokens": issued, "reversed": reversed_tokens, "fault_reference": ref}, open(a.out, "w"), indent=1)
    if failures:
        print(f"{len(failures)} checks failed", file=sys.stderr)
        sys.exit(1)
    print("every check held")


if __name__ == "__main__":
    main()
