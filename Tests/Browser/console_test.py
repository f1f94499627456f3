#!/usr/bin/env python3
"""The operator console in a real browser: headless Chromium driven by Selenium.

Usage: console_test.py URL DEMO_FOLDER SCREENSHOT_FOLDER

Drives a running `stsvend serve` on a demo station (`stsvend station demo`) through the
documented hooks only (form fields user/password/totp, meter/money, the receipt's data-token)
and prints one JSON object on stdout: the tokens it saw, for the caller to enter into the
meter simulator. Exits 1 with a message on the first failed check.
"""
import base64, hashlib, hmac, json, os, struct, sys, time, urllib.request, uuid
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

url, demo, shots = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(shots, exist_ok=True)
result = {"tokens": {}}


def fail(why):
    print(json.dumps({"error": why}))
    sys.exit(1)


def check(cond, why):
    if not cond:
        try:
            driver.save_screenshot(os.path.join(shots, "failure.png"))
        except Exception:
            pass
        fail(why + " (page: " + driver.current_url + ")")


def totp(secret_b32, at=None):
    # RFC 6238: HMAC-SHA1 over the 30-second step, dynamic truncation, 6 digits.
    key = base64.b32decode(secret_b32.strip() + "=" * (-len(secret_b32.strip()) % 8))
    step = int((at or time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def read(name):
    with open(os.path.join(demo, name)) as f:
        return f.read().strip()


options = webdriver.ChromeOptions()
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US"]:
    options.add_argument(arg)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.implicitly_wait(5)


def field(name):
    return driver.find_element(By.NAME, name)


def go(element):
    """Clicks a button or link and waits until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_):
        # Chromium answers a node of the page just left either as stale or, during the swap, as
        # "does not belong to the document": both mean the next page is there.
        try:
            old.tag_name
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 15).until(replaced)


def css(selector):
    return driver.find_element(By.CSS_SELECTOR, selector)


def submit(form_action):
    go(css('form[action="%s"] button[type="submit"]' % form_action))


def login(user, password):
    driver.get(url + "/login")
    field("user").send_keys(user)
    field("password").send_keys(password)
    submit("/login")


def logout():
    go(css('form[action="/logout"] button'))
    check("/login" in driver.current_url, "logout returns to the login page")


try:
    # A wrong password: the message a person understands, no hint which part was wrong.
    login("operator", "not the password")
    check("not accepted" in driver.page_source, "a failed login says the login was not accepted")
    driver.save_screenshot(os.path.join(shots, "login.png"))

    # The operator sells 50.00 to Li Wei: find, preview the deductions, confirm, see the token.
    login("operator", read("operator.password"))
    check(driver.current_url.endswith("/sell"), "an operator lands on the sell page")
    field("query").send_keys("幸福小区")
    go(css("form.search button"))
    check(len(driver.find_elements(By.CSS_SELECTOR, 'table.list a.button[href="/sell/600727000000000181"]')) == 1, "a meter is found by its address")
    field("query").clear()
    field("query").send_keys("Li Wei")
    go(css("form.search button"))
    go(css('table.list a.button[href="/sell/600727000000000181"]'))
    field("money").send_keys("50.00")
    go(css("main form.stack button"))
    preview = driver.find_element(By.CSS_SELECTOR, "table.preview").text
    check("VAT" in preview and "Block " in preview, "the preview lists VAT and the blocks before confirming: " + preview)
    go(css("form.confirm button"))
    token_el = driver.find_element(By.CSS_SELECTOR, "[data-token]")
    token = token_el.get_attribute("data-token")
    check(len(token) == 20 and token.isdigit(), "the receipt carries the 20-digit token in data-token")
    check(token_el.text.replace(" ", "") == token and token_el.text.count(" ") == 4, "the token is shown in groups of four")
    result["tokens"]["600727000000000181"] = [token]
    driver.save_screenshot(os.path.join(shots, "receipt.png"))
    receipt_url = driver.find_element(By.LINK_TEXT, "80 mm layout").get_attribute("href")

    # Confirming the same preview again (back, click again) sells nothing new: the preview fixed the request id.
    driver.back()
    WebDriverWait(driver, 15).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "form.confirm button")) == 1)
    go(css("form.confirm button"))
    again = css("[data-token]").get_attribute("data-token")
    check(again == token, "confirming the same preview twice shows the same token")
    check("already made" in driver.page_source, "and says the sale was already made")

    # Reprint: the same token, marked as a reprint.
    driver.get(receipt_url)
    check(driver.find_element(By.CSS_SELECTOR, "[data-token]").get_attribute("data-token") == token, "reprint shows the same token")
    check("REPRINT" in driver.page_source, "a reprint says so")

    # The customer page: balance and history; the operator sees no reversal form.
    driver.get(url + "/meters/600727000000000181")
    check("History" in driver.page_source and "50.00" in driver.page_source, "the meter page lists the sale")
    check(len(driver.find_elements(By.CSS_SELECTOR, "form.reverse")) == 0, "operators get no reversal form")

    # A connected meter (the demo's simulated fleet over DLMS/COSEM): the token reaches the
    # meter's token gateway before the receipt shows, and the meter page draws its readings.
    with open(os.path.join(demo, "fleet", "fleet.json")) as f:
        fleet_pan = json.load(f)["meters"][0]["pan"]
    driver.get(url + "/sell/" + fleet_pan)
    field("money").send_keys("20.00")
    go(css("main form.stack button"))
    go(css("form.confirm button"))
    delivery = css("p.delivery")
    check(delivery.get_attribute("data-delivery") == "delivered", "the receipt says the meter accepted the token: " + delivery.text)
    result["delivered"] = {fleet_pan: css("[data-token]").get_attribute("data-token")}
    driver.get(url + "/meters/" + fleet_pan)
    WebDriverWait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "section.connected dl.reading")) == 1 or d.refresh())
    check(len(driver.find_elements(By.CSS_SELECTOR, "section.connected svg.chart rect")) > 2, "the connected meter's consumption charts have bars")
    check(len(driver.find_elements(By.CSS_SELECTOR, "form.supply")) == 0, "operators get no remote supply switch")
    driver.save_screenshot(os.path.join(shots, "meter-connected.png"))

    # Operators are refused supervisor work: no tariff form, users refused, a forged tariff post refused.
    driver.get(url + "/tariffs")
    check(len(driver.find_elements(By.CSS_SELECTOR, 'form[action="/tariffs"]')) == 0, "operators see no tariff form")
    csrf = driver.find_element(By.CSS_SELECTOR, 'form[action="/logout"] input[name=csrf]').get_attribute("value")
    driver.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = '/tariffs';
        for (const [k, v] of Object.entries(arguments[0])) { const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit();""", {"csrf": csrf, "name": "residential", "blocks": "0.01", "totp": "123456"})
    WebDriverWait(driver, 15).until(lambda d: "Your role may not do this" in d.page_source)
    check("version 2" not in driver.page_source, "an operator's tariff change is refused")
    driver.get(url + "/users")
    check("may not" in driver.page_source or "Your role may not do this" in driver.page_source, "an operator may not list users")
    logout()

    # The supervisor changes the tariff with a TOTP code in the form.
    login("supervisor", read("supervisor.password"))
    driver.get(url + "/tariffs")

    def set_tariff():
        field("name").send_keys("residential")
        field("blocks").send_keys("50=1.25, rest=1.85")
        field("fbe").clear(); field("fbe").send_keys("10")
        field("vat").clear(); field("vat").send_keys("15")
        field("totp").send_keys(totp(read("supervisor.totp")))
        submit("/tariffs")

    set_tariff()
    if "not accepted" in driver.page_source:
        # Codes are single use: the demo's setup may have used this 30-second window's code.
        time.sleep(30 - time.time() % 30 + 1)
        set_tariff()
    check("saved as version" in driver.page_source, "the supervisor's tariff change is saved")
    check("1.2500" in driver.page_source, "the new price is listed")
    driver.save_screenshot(os.path.join(shots, "tariffs.png"))

    # A point of sale reports a fault through the Electrum interface; the supervisor sees it
    # with the POS clients on /pos and resolves it.
    fault_id = str(uuid.uuid4())
    fault = {"id": fault_id, "time": "2026-12-03T10:00:00.000Z",
             "originator": {"institution": {"id": "77", "name": "Corner"}, "terminalId": "POS00001",
                            "merchant": {"merchantId": "000000000000077", "merchantType": "5411",
                                         "merchantName": {"name": "Corner Shop", "city": "Durban", "region": "KZ", "country": "ZA"}}},
             "client": {"id": "77", "name": "Corner"}, "thirdPartyIdentifiers": [],
             "meter": {"meterId": "600727000000000181"}, "contactNumber": "0821234567", "faultType": "METER_DEAD",
             "faultDescription": "display blank since the storm"}
    req = urllib.request.Request(url + "/prepaidutility/v3/faultReports/" + fault_id, data=json.dumps(fault).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Basic " + base64.b64encode(("corner-shop:" + read("pos-client.secret")).encode()).decode())
    with urllib.request.urlopen(req, timeout=30) as r:
        check(r.status == 201, "the point of sale's fault report is taken")
        reference = json.loads(r.read())["reference"]
    driver.get(url + "/pos")
    check(len(driver.find_elements(By.CSS_SELECTOR, '#pos-clients tr[data-client="corner-shop"]')) == 1, "the POS clients are listed")
    check(len(driver.find_elements(By.CSS_SELECTOR, '#pos-faults tr[data-fault="%s"]' % reference)) == 1, "the fault report is listed")
    check("display blank since the storm" in driver.page_source, "with the customer's words")
    driver.save_screenshot(os.path.join(shots, "pos.png"))
    submit("/pos/faults/%s/resolve" % reference)
    check("is resolved" in driver.page_source, "the supervisor resolves it")
    check(len(driver.find_elements(By.CSS_SELECTOR, '#pos-faults tr[data-fault="%s"]' % reference)) == 0, "a resolved report leaves the list")

    # Connected meters for the supervisor: the remote switch on the meter page; alerts (meters
    # whose credit ran out during the week of history) and dead letters on the head-end page.
    driver.get(url + "/meters/" + fleet_pan)
    check(len(driver.find_elements(By.CSS_SELECTOR, "form.supply select[name=relay]")) == 1, "a supervisor gets the remote supply switch")
    driver.get(url + "/connected")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#alerts tr[data-alert]")) >= 1, "the head-end page lists alerts")
    driver.save_screenshot(os.path.join(shots, "connected.png"))

    # Reports: charts drawn by the server, numbers downloadable.
    driver.get(url + "/reports")
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    check(len(charts) >= 4, "the report page renders its charts (found %d)" % len(charts))
    check(len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")) > 2, "the charts have bars")
    check(len(driver.find_elements(By.PARTIAL_LINK_TEXT, "CSV")) >= 4, "each chart links its numbers as CSV")
    driver.save_screenshot(os.path.join(shots, "reports.png"))

    # A dispute statement, then the whole log verified on the spot.
    driver.get(url + "/meters/600727000000000181/statement")
    check(len(driver.find_elements(By.CSS_SELECTOR, ".statement-line code")) >= 1, "the statement shows each sale's log hash")
    submit("/audit/verify")
    check("The log verifies" in driver.page_source, "the log verifies on the spot")

    # The Chinese console, by the switch.
    driver.get(url + "/sell?lang=zh-Hans")
    check(driver.find_element(By.TAG_NAME, "h1").text == "售电", "the Chinese console renders")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans", "the page says its language")
    driver.get(url + "/reports")
    check("报表" in driver.page_source, "the language choice is remembered")
    driver.save_screenshot(os.path.join(shots, "reports-zh.png"))
    driver.get(url + "/sell?lang=en")

    # On a phone.
    driver.set_window_size(390, 844)
    driver.get(url + "/meters/600727000000000181")
    driver.save_screenshot(os.path.join(shots, "meter-phone.png"))
    driver.set_window_size(1280, 1000)

    # No page broke its Content-Security-Policy or logged an error.
    # Refusals answer 4xx on purpose (logged by Chromium as network errors); anything else (a CSP violation, a script error) fails.
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE" and e.get("source") != "network"]
    check(not severe, "no browser errors: %s" % severe[:3])
    print(json.dumps(result))
except Exception as e:
    try:
        driver.save_screenshot(os.path.join(shots, "failure.png"))
    except Exception:
        pass
    fail("%s at %s: %s" % (type(e).__name__, driver.current_url, str(e).splitlines()[0] if str(e) else ""))
finally:
    driver.quit()
