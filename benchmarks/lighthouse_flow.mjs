// Lighthouse user flow for the results page, which only exists as the answer to a POST.
// Run by benchmarks/lighthouse.py; not meant to be run by hand. It:
//   1. opens /questionnaire in Chromium (puppeteer-core, bundled with lighthouse),
//   2. ticks the answers given in BONEMETS_ANSWERS (JSON) as a person would,
//   3. lets Lighthouse audit the navigation caused by pressing "See my options"
//      (a full "navigation" report: performance, accessibility, best practices, SEO).
// Storage is not reset before that navigation: the form's CSRF token is bound to the session
// cookie set when the form was loaded, exactly as in a real browser.
// Prints the step's Lighthouse result (JSON) on stdout.
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

const prefix = process.env.LIGHTHOUSE_PREFIX;        // folder where npm installed lighthouse
const base = process.env.BONEMETS_URL;                 // e.g. http://127.0.0.1:8123
const answers = JSON.parse(process.env.BONEMETS_ANSWERS || '{}');
const mod = (...p) => import(pathToFileURL(join(prefix, 'node_modules', ...p)).href);

const {startFlow} = await mod('lighthouse', 'core', 'index.js');
const puppeteer = (await mod('puppeteer-core', 'lib', 'esm', 'puppeteer', 'puppeteer-core.js')).default;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/questionnaire`, {waitUntil: 'load'});
  for (const [name, value] of Object.entries(answers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (name === 'pain_score') await page.type(`input[name="${name}"]`, String(v));
      else await page.click(`input[name="${name}"][value="${v}"]`);
    }
  }
  const flow = await startFlow(page, {name: 'bonemets results', flags: {disableStorageReset: true}});
  await flow.navigate(async () => {
    await page.click('form.questionnaire button[type="submit"]');
  }, {name: 'Results page (POST /plan)', flags: {disableStorageReset: true}});
  const title = await page.title();
  if (!title.includes('Your options')) {
    throw new Error(`expected the results page, got a page titled ${JSON.stringify(title)}`);
  }
  const result = await flow.createFlowResult();
  process.stdout.write(JSON.stringify(result.steps[0].lhr));
} finally {
  await browser.close();
}
