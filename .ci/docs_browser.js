// Drives the docs page in Chromium (see .ci/docs-browser): DOCS_URL is the
// page, DOCS_TOKEN an API token of a superuser.
"use strict";
const { chromium } = require("playwright-core");

const pageUrl = process.env.DOCS_URL;
const token = process.env.DOCS_TOKEN;
const origin = new URL(pageUrl).origin;

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    const elsewhere = [];
    const problems = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(origin + "/") && !url.startsWith("data:")) {
        elsewhere.push(url);
      }
    });
    page.on("console", (message) => {
      if (message.type() === "error") {
        problems.push(message.text());
      }
    });
    page.on("pageerror", (error) => problems.push(String(error)));

    const response = await page.goto(pageUrl);
    check(response.status() === 200, `GET /docs answered ${response.status()}`);
    await page.waitForSelector(".opblock", { timeout: 30000 });
    const operations = await page.locator(".opblock").count();
    check(operations >= 20, `only ${operations} operations listed`);
    console.log(`docs-browser: ${operations} operations listed`);

    // Authorize with the API token.
    await page.locator(".auth-wrapper button.authorize").click();
    const bearer = page.locator(".auth-container", { hasText: "bearerAuth" });
    await bearer.locator("input").fill(token);
    await bearer.locator("button.authorize").click();
    await page.locator(".dialog-ux button.close-modal").click();

    // Try GET /securities out. Swagger UI names the block after the tag and
    // the operation id; only the operation id is fw's to keep stable.
    const operation = page.locator('[id^="operations-"][id$="-listSecurity"]');
    check((await operation.count()) === 1, "GET /securities is not on the page");
    await operation.locator(".opblock-summary-control").click();
    const tryOut = operation.locator("button.try-out__btn");
    if ((await tryOut.innerText()).trim() === "Try it out") {
      await tryOut.click();
    }
    const [sent] = await Promise.all([
      page.waitForRequest((request) => new URL(request.url()).pathname === "/securities"),
      operation.locator("button.execute").click(),
    ]);
    const authorization = (await sent.allHeaders())["authorization"] || "";
    check(authorization === `Bearer ${token}`, `sent without the token: "${authorization}"`);
    const status = operation.locator(".live-responses-table tbody .response-col_status").first();
    await status.waitFor({ timeout: 30000 });
    const code = (await status.innerText()).trim().slice(0, 3);
    check(code === "200", `GET /securities from the page answered ${code}`);
    console.log("docs-browser: try it out on GET /securities with the token: 200");

    // The top bar switches between the API versions' documents, newest
    // first; the first release has no cancel.
    const select = page.locator(".download-url-wrapper select");
    const versions = await select.locator("option").allInnerTexts();
    check(
      versions.length === 2 && versions[0] === "2026-12-01" && versions[1] === "2026-06-01",
      `versions offered: ${versions.join(", ")}`,
    );
    check((await page.locator('[id$="-cancelDividend"]').count()) === 1, "no cancel in 2026-12-01");
    await select.selectOption("2026-06-01");
    // The page empties, then lists the older document's operations.
    await page.waitForFunction(
      () =>
        document.querySelectorAll(".opblock").length >= 20 &&
        document.querySelectorAll('[id$="-cancelDividend"]').length === 0,
      null,
      { timeout: 30000 },
    );
    console.log(`docs-browser: versions ${versions.join(", ")}; 2026-06-01 has no cancel`);

    check(elsewhere.length === 0, `fetched from elsewhere: ${elsewhere.join(", ")}`);
    check(problems.length === 0, `errors on the page:\n${problems.join("\n")}`);
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(`docs-browser: ${error.message}`);
  process.exit(1);
});
