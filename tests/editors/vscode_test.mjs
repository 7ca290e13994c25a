// Drives VS Code (code-server) in Chromium, headless, and prints what the editor showed as JSON.
// The assertions are in tests/test_vscode.py; this script only acts and observes.
//   node vscode_test.mjs URL WORKSPACE USER_SETTINGS SCREENSHOT
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.NIB_TOOLS + "/node_modules/");
const { chromium } = require("playwright-core");
const [url, workspace, userSettings, screenshot] = process.argv.slice(2);
const seen = { steps: [] };

const browser = await chromium.launch({
  executablePath: process.env.NIB_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });

async function step(name, fn) {
  const started = Date.now();
  try {
    const value = await fn();
    seen.steps.push({ name, ms: Date.now() - started });
    return value;
  } catch (e) {
    seen.steps.push({ name, ms: Date.now() - started, error: String(e) });
    throw e;
  }
}

async function goToLine(line) {
  await page.keyboard.press("Control+G");
  await page.keyboard.type(String(line));
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
}

async function suggestLabels() {
  await page.waitForSelector(".suggest-widget.visible .monaco-list-row", { timeout: 30_000 });
  await page.waitForTimeout(500); // let a re-ranked answer replace the first one
  return page.$$eval(".suggest-widget.visible .monaco-list-row", (rows) =>
    rows.map((r) => r.getAttribute("aria-label")));
}

async function ghostText(timeout = 30_000) {
  await page.waitForSelector(".ghost-text-decoration, .ghost-text", { timeout });
  return page.$$eval(".ghost-text-decoration, .ghost-text", (spans) => spans.map((s) => s.textContent).join(""));
}

try {
  await step("open", async () => {
    await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
    await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
    // Quick Open finds nothing until the workspace is indexed: retry until demo.py's tab is open
    for (let attempt = 0; attempt < 20; attempt++) {
      await page.keyboard.press("Escape");
      await page.keyboard.press("Control+P");
      await page.waitForTimeout(500);
      await page.keyboard.type("demo.py");
      try {
        await page.waitForSelector(".quick-input-list .monaco-list-row", { timeout: 2000 });
        await page.keyboard.press("Enter");
        await page.waitForSelector(".tabs-container .tab[aria-label*='demo.py']", { timeout: 3000 });
        break;
      } catch {
        // not indexed yet
      }
    }
    await page.waitForSelector(".monaco-editor .view-lines", { timeout: 30_000 });
    await page.click(".monaco-editor .view-lines");
  });
  seen.status = await step("server ready", async () => {
    const item = page.locator(".statusbar-item", { hasText: "nib" }).first();
    await page.waitForFunction(() => [...document.querySelectorAll(".statusbar-item")]
      .some((e) => e.textContent.includes("nib") && e.innerHTML.includes("codicon-check")), null, { timeout: 60_000 });
    return item.getAttribute("aria-label");
  });
  seen.list = await step("list after a dot", async () => {
    await goToLine(3);
    await page.keyboard.type("os.pa", { delay: 60 });
    await page.keyboard.press("Control+Space");
    return suggestLabels();
  });
  await step("accept the first item mid-word", async () => {
    await page.keyboard.press("Enter");
    await page.waitForTimeout(300);
    await page.keyboard.press("Escape");
  });
  seen.ghost = await step("ghost text", async () => {
    await goToLine(11);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("found.app", { delay: 80 });
    return ghostText();
  });
  await step("accept the ghost text", async () => {
    await page.keyboard.press("Tab");
    await page.waitForTimeout(300);
    await page.keyboard.press("Control+S");
    await page.waitForTimeout(500);
  });
  seen.after_setting = await step("a setting change", async () => {
    // "nib: Toggle Completions" from the command palette sets nib.enable to false
    await page.keyboard.press("F1");
    await page.waitForTimeout(500);
    await page.keyboard.type("nib: Toggle Completions");
    await page.waitForTimeout(800);
    await page.keyboard.press("Enter");
    await page.waitForTimeout(1500);
    const settings = JSON.parse(readFileSync(userSettings, "utf8"));
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("found.app", { delay: 80 });
    let ghost = "";
    try {
      ghost = await ghostText(3000);
    } catch {
      // none: nib is off
    }
    await page.keyboard.press("Control+Space");
    await page.waitForTimeout(2500);
    const labels = await page.$$eval(".suggest-widget.visible .monaco-list-row", (rows) =>
      rows.map((r) => r.getAttribute("aria-label")));
    await page.keyboard.press("Escape");
    return { enable: settings["nib.enable"], ghost, labels };
  });
  await step("screenshot", async () => {
    await page.keyboard.press("Control+S");
    await page.waitForTimeout(500);
    await page.screenshot({ path: screenshot });
  });
} catch (e) {
  seen.error = String(e);
  await page.screenshot({ path: screenshot }).catch(() => {});
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
