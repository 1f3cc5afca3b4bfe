// Helpers for the browser tests: Debian's chromium driven by playwright-core
// (no browser is ever downloaded), pages of the web client served by a real
// parleyd, and waits with deadlines on what the page shows.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../integration/lib/server.mjs';

export const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.PARLEY_BROWSER_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'parley-browser-'));
export const WAIT_MS = 15_000;

export function webRoot() {
  const root = process.env.PARLEY_WEB_ROOT;
  assert.ok(root && fs.existsSync(path.join(root, 'index.html')),
    `PARLEY_WEB_ROOT must name a built web client (scripts/build-web.sh); got ${root}`);
  return root;
}

/**
 * Chromium, headless, reaching nothing beyond this machine. playwright-core
 * gives every launch a fresh temporary profile (its --user-data-dir) and
 * removes it on close.
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, close: () => browser.close() };
}

/**
 * A user's own browser context and page. Collects uncaught page errors and
 * Content-Security-Policy violations; check() fails on any.
 */
export async function openUser(browser, url, { viewport = { width: 1100, height: 760 }, ...contextOptions } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  await page.goto(url);
  return { context, page, problems, check: () => assert.deepEqual(problems, []) };
}

/** Milliseconds from navigation start to the client's first screen (its performance mark). */
export async function firstScreenMs(page) {
  await page.waitForFunction(() => performance.getEntriesByName('parley:first-screen').length > 0, null, { timeout: WAIT_MS });
  return page.evaluate(() => performance.getEntriesByName('parley:first-screen')[0].startTime);
}

export async function register(page, name, email) {
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: WAIT_MS });
  await page.getByText('Connected', { exact: true }).waitFor({ timeout: WAIT_MS });
}

/** Logs in on the log-in screen with the password the tests use. */
export async function login(page, email) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: WAIT_MS });
  await page.getByText('Connected', { exact: true }).waitFor({ timeout: WAIT_MS });
}

/** The signed-in user of a page's context (its cookie), from GET /api/auth/me. */
export async function whoAmI(context, url) {
  const res = await context.request.get(`${url}/api/auth/me`);
  assert.equal(res.status(), 200);
  return res.json();
}

/** GET /api/messages/:id with the context's cookie; the history, oldest first. */
export async function historyOf(context, url, id, query = {}) {
  const qs = new URLSearchParams(query).toString();
  const res = await context.request.get(`${url}/api/messages/${id}${qs ? `?${qs}` : ''}`);
  assert.equal(res.status(), 200);
  return res.json();
}

/**
 * Presses Tab (Shift+Tab when backward) until `target` has the focus, at
 * most `max` times; fails if it never does. The focused element must show a
 * focus indicator: it matches :focus-visible and draws an outline.
 */
export async function tabTo(page, target, { backward = false, max = 40 } = {}) {
  const focused = () => target.evaluate((el) => el === document.activeElement).catch(() => false);
  for (let i = 0; i < max && !(await focused()); i++) await page.keyboard.press(backward ? 'Shift+Tab' : 'Tab');
  assert.ok(await focused(), `${target} not reached with ${backward ? 'Shift+Tab' : 'Tab'} in ${max} presses`);
  await assertFocusVisible(target);
}

/**
 * The element has the focus (given within the deadline: a view may focus it
 * in an effect after rendering) and shows it (a visible outline, :focus-visible).
 */
export async function assertFocusVisible(target) {
  const handle = await target.elementHandle({ timeout: WAIT_MS });
  await handle.evaluate((el, ms) => new Promise((resolve) => {
    const deadline = Date.now() + ms;
    const poll = () => (el === document.activeElement || Date.now() > deadline ? resolve() : requestAnimationFrame(poll));
    poll();
  }), WAIT_MS);
  await handle.dispose();
  const seen = await target.evaluate((el) => {
    const s = getComputedStyle(el);
    return {
      focused: el === document.activeElement,
      focusVisible: el.matches(':focus-visible'),
      outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 && s.outlineColor !== 'transparent',
    };
  });
  assert.deepEqual(seen, { focused: true, focusVisible: true, outline: true }, `focus indicator on ${target}`);
}

/** The page does not scroll sideways (its content fits the viewport's width). */
export async function assertNoHorizontalScroll(page, what) {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
  assert.ok(scrollWidth <= innerWidth, `${what}: content ${scrollWidth}px wide in a ${innerWidth}px viewport`);
}

/** The element is visible and wholly inside the viewport. */
export async function assertInViewport(page, target, what) {
  assert.ok(await target.isVisible(), `${what} is visible`);
  const box = await target.boundingBox();
  const vp = page.viewportSize();
  assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width + 0.5 && box.y + box.height <= vp.height + 0.5,
    `${what} inside the ${vp.width}x${vp.height} viewport: ${JSON.stringify(box)}`);
}

export function person(page, name) {
  return page.locator(`[data-user="${name}"]`);
}

export function conversation(page, title) {
  return page.locator(`[data-conversation="${title}"]`);
}

/** A message on screen with exactly this text. */
export function message(page, text) {
  return page.getByRole('log', { name: 'Messages' }).getByText(text, { exact: true });
}

/** The texts of the messages on screen, in order. */
export function messageTexts(page) {
  return page.locator('.messages .msg .text').allTextContents();
}

export function composer(page) {
  return page.getByRole('textbox', { name: 'Message', exact: true });
}

export async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** Runs axe-core on the page; fails on serious or critical violations. */
export async function checkAccessibility(page, what) {
  const require = createRequire(import.meta.url);
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated over the DevTools protocol, so the page's CSP does not apply.
  await page.evaluate(source);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `axe on ${what}`);
}

export function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/**
 * The parleyd and chromium a test file shares, for the describe() that calls
 * it: started before its tests (parleyd serving the built client, with
 * `env` added to its settings), and after them chromium closed and parleyd
 * stopped (its exit status checked) before each opened page is checked for
 * errors, so a failed check cannot leave chromium running. `open(opts)`
 * opens a page for a new user (openUser).
 */
export function browserSuite(env = {}) {
  const suite = { srv: null, chrome: null, opened: [] };
  suite.open = async (opts) => {
    const u = await openUser(suite.chrome.browser, suite.srv.url, opts);
    suite.opened.push(u);
    return u;
  };
  before(async () => {
    suite.srv = await startServer({ env: { WEB_ROOT: webRoot(), RATE_LIMIT_DISABLED: '1', ...env } });
    suite.chrome = await launch();
  });
  after(async () => {
    if (suite.chrome) await suite.chrome.close();
    if (suite.srv) assert.equal(await suite.srv.stop(), 0);
    for (const u of suite.opened) u.check();
  });
  return suite;
}
