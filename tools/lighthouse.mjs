// Lighthouse in one Chromium for many runs: tools/audit.py writes one URL a line on stdin and
// reads one Lighthouse result (the "lhr", JSON) a line on stdout.
// Usage: node tools/lighthouse.mjs NODE_MODULES_DIR "CHROME FLAGS"
// Default config (mobile, simulated throttling, all four categories in one run). Skipped: the
// back/forward-cache check and the screenshots, which weigh 0 in every score and cost a second
// navigation and image encoding per run.
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const [modules, flags] = process.argv.slice(2);
const load = (name, file) => import(pathToFileURL(path.join(modules, name, file)).href);
const { default: lighthouse } = await load("lighthouse", "core/index.js");
const chromeLauncher = await load("chrome-launcher", "dist/index.js");

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH,
  chromeFlags: flags.split(" "),
});
try {
  for await (const url of readline.createInterface({ input: process.stdin })) {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      disableFullPageScreenshot: true,
      skipAudits: ["bf-cache", "screenshot-thumbnails", "final-screenshot"],
    });
    process.stdout.write(JSON.stringify(result.lhr) + "\n");
  }
} finally {
  await chrome.kill();
}
