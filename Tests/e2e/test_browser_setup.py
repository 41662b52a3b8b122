"""First start in a real browser: the setup page, the one-time key with its copy button (our own script, under the
page's policy), and the way on to the console — no dead end."""

from __future__ import annotations

import urllib.parse

from peers import Screenshots, chromium_problem, make_driver, need_peer, wait_until
from webtools import accessibility_problems


def test_setup_shows_the_key_with_a_copy_button_and_leads_to_the_console(sqlite_database, tmp_path, servers):
    need_peer(chromium_problem(), "headless Chromium")
    from selenium.webdriver.common.by import By

    workdir = tmp_path / "setup"
    workdir.mkdir()
    server = servers(workdir, args=sqlite_database.cli_args, env=sqlite_database.server_env()).start_and_wait()
    assert server.setup_url, "the server printed no setup link"
    driver = make_driver(console_log=True)
    shots = Screenshots("browser-setup")
    try:
        driver.get(server.setup_url)
        for field, value in (("email", "ada@example.com"), ("name", "Ada Admin"), ("password", "correct horse battery staple"),
                             ("confirm", "correct horse battery staple")):
            driver.find_element(By.ID, field).send_keys(value)
        shots.take(driver, "setup-form")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_until(lambda: driver.find_elements(By.ID, "admin-key"), what="the setup page shows the admin key")
        shots.take(driver, "setup-done")
        key = driver.find_element(By.ID, "admin-key").text.strip()
        assert key.startswith("lk_live_")

        # The script ran (the policy allows our own scripts here) and revealed the copy button.
        copy = driver.find_element(By.CSS_SELECTOR, "button[data-copy=admin-key]")
        wait_until(copy.is_displayed, what="the copy button is shown once the script runs")
        copy.click()
        wait_until(lambda: copy.text in ("Copied", "Select the text and copy it"), what="the copy button says what happened")
        violations = [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry.get("message", "")]
        assert not violations, f"the page's policy blocked something: {violations}"

        # The way on: the console's sign-in, then the Connection Center.
        driver.find_element(By.ID, "open-console").click()
        wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/login", what="Open the console leads to the sign-in")
        driver.find_element(By.NAME, "email").send_keys("ada@example.com")
        driver.find_element(By.NAME, "password").send_keys("correct horse battery staple")
        driver.find_element(By.ID, "sign-in").click()
        wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/connections", what="signing in leads to the Connection Center")

        # The start page and an unknown page keep the person in the console.
        driver.get(server.base_url + "/")
        wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/admin", what="the start page leads an administrator to the overview")
        driver.get(server.base_url + "/no-such-page")
        shots.take(driver, "not-found")
        assert "There is no page at this address" in driver.page_source
        assert driver.find_elements(By.ID, "sign-out"), "the error page lost the navigation"

        # Admin keys in the console: minted (shown once, copy button), revoked after a confirmation.
        driver.get(server.base_url + "/admin/keys")
        driver.find_element(By.ID, "key-name").send_keys("browser test")
        driver.find_element(By.ID, "create-key").click()
        wait_until(lambda: driver.find_elements(By.ID, "new-key"), what="the new key is shown")
        copy = driver.find_element(By.CSS_SELECTOR, "button[data-copy=new-key]")
        wait_until(copy.is_displayed, what="the new key's copy button is shown")
        shots.take(driver, "admin-key-created")
        problems = accessibility_problems(driver.page_source)
        assert not problems, f"admin keys page: {problems}"
        driver.find_element(By.LINK_TEXT, "Revoke…").click()
        wait_until(lambda: driver.find_elements(By.ID, "confirm-revoke"), what="the revoke confirmation")
        shots.take(driver, "admin-key-revoke")
        driver.find_element(By.ID, "confirm-revoke").click()
        wait_until(lambda: "was revoked" in driver.page_source, what="the revocation is confirmed")
        driver.get(server.base_url + "/admin/audit")
        assert "admin_key.revoke" in driver.page_source
        driver.find_element(By.ID, "verify-chain").click()
        wait_until(lambda: driver.find_elements(By.ID, "chain-status"), what="the chain check's result")
        assert "The chain is intact" in driver.find_element(By.ID, "chain-status").text
        shots.take(driver, "admin-audit")

        # The setup link, used again, says setup is done and where to sign in.
        driver.get(server.setup_url)
        shots.take(driver, "setup-again")
        assert "Setup is done" in driver.page_source and driver.find_elements(By.ID, "sign-in")
    finally:
        shots.take(driver, "end")
        driver.quit()
