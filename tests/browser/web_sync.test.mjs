// The web client's history and sending against the real parleyd: a
// conversation longer than one page loads older pages with `before` as the
// reader scrolls up (no duplicate, seq order, down to the first message); a
// message sent while the page is offline shows as pending and is sent once,
// by its tempId, when the page is back, then shows delivered.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEmail, newUser } from '../integration/lib/server.mjs';
import {
  browserSuite,
  WAIT_MS, register, login, person, conversation, message, messageTexts, send,
  whoAmI, historyOf, screenshot,
} from './lib.mjs';

const SEEDED = 120;
const PAGE = 30; // the client's page size (web/src/chat.ts)

describe('web client: history paging and sending offline', () => {
  // Short pings, so a page cut off by setOffline notices within seconds.
  const suite = browserSuite({ PING_INTERVAL_MS: '1000', PING_TIMEOUT_MS: '1000' });
  const open = (opts) => suite.open(opts);

  test('scrolling up loads older pages with before, once each and in order, to the first message', async () => {
    const tag = Date.now().toString(36);
    const quinn = await newUser(suite.srv.url, { name: `Quinn ${tag}` });
    const ray = await newUser(suite.srv.url, { name: `Ray ${tag}` });
    const text = (i) => `paged ${String(i).padStart(3, '0')}`;
    // Seeded over the REST API, one after another so seq follows the text.
    for (let i = 1; i <= SEEDED; i++) {
      const res = await fetch(`${suite.srv.url}/api/messages/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${quinn.token}` },
        body: JSON.stringify({ to: ray.user._id, text: text(i) }),
      });
      assert.equal(res.status, 201);
    }

    const u = await open();
    const { page } = u;
    const historyRequests = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/api/messages/') && r.method() === 'GET') historyRequests.push(url.searchParams);
    });
    await login(page, ray.email);
    await conversation(page, quinn.name).click();
    await message(page, text(SEEDED)).waitFor({ timeout: WAIT_MS });

    // The newest page, oldest first.
    const expected = (from, to) => Array.from({ length: to - from + 1 }, (_, k) => text(from + k));
    assert.deepEqual(await messageTexts(page), expected(SEEDED - PAGE + 1, SEEDED));

    // Each scroll to the top loads one older page and keeps the reader's place.
    const log = page.locator('.messages');
    const start = page.getByText('Start of the conversation');
    for (let shown = PAGE; shown < SEEDED; shown += PAGE) {
      await log.evaluate((el) => { el.scrollTop = 0; });
      await page.waitForFunction((n) => document.querySelectorAll('.messages .msg').length > n, shown, { timeout: WAIT_MS });
      assert.deepEqual(await messageTexts(page), expected(SEEDED - shown - PAGE + 1, SEEDED));
      assert.ok(await log.evaluate((el) => el.scrollTop > 0), 'the view stays on what was read, not at the new top');
    }
    // The last full page may be the first: one more scroll finds nothing older.
    if (!(await start.isVisible())) await log.evaluate((el) => { el.scrollTop = 0; });
    await start.waitFor({ timeout: WAIT_MS });
    const seqs = await page.locator('.messages .msg').evaluateAll((els) => els.map((el) => Number(el.dataset.seq)));
    assert.deepEqual(seqs, Array.from({ length: SEEDED }, (_, k) => k + 1));
    assert.deepEqual(await messageTexts(page), expected(1, SEEDED));

    // The first load had no cursor; every later page was asked with before.
    assert.ok(historyRequests.length >= SEEDED / PAGE, `history requests: ${historyRequests.length}`);
    assert.equal(historyRequests[0].get('before'), null);
    for (const q of historyRequests.slice(1)) {
      assert.match(q.get('before') ?? '', /^[0-9a-f]{24}$/, `a later page asked with before: ${q}`);
      assert.equal(q.get('skip'), null);
    }
    await screenshot(page, 'history-paged');
    await u.context.close();
  });

  test('a message sent offline shows pending, then is sent once by its tempId and delivered', async () => {
    const tag = Date.now().toString(36);
    const [sam, tess] = [await open(), await open()];
    const tessName = `Tess ${tag}`;
    await register(sam.page, `Sam ${tag}`, uniqueEmail('sam'));
    await register(tess.page, tessName, uniqueEmail('tess'));
    const samId = (await whoAmI(sam.context, suite.srv.url))._id;

    await sam.page.getByLabel('Search people').fill(tessName);
    await person(sam.page, tessName).click();
    await send(sam.page, 'before going offline');
    const tick = (text) => sam.page.locator('.msg.mine', { hasText: text }).locator('.tick');
    await tick('before going offline').and(sam.page.locator('[data-status="delivered"]')).waitFor({ timeout: WAIT_MS });

    // One sent as the link drops (the page has not noticed yet: its emit is
    // lost), one once the page shows it is offline: both pending.
    await sam.context.setOffline(true);
    await send(sam.page, 'sent as the link drops');
    await sam.page.getByText('Reconnecting…').waitFor({ timeout: WAIT_MS });
    await send(sam.page, 'sent while offline');
    await tick('sent while offline').and(sam.page.locator('[data-status="pending"]')).waitFor({ timeout: WAIT_MS });
    await tick('sent as the link drops').and(sam.page.locator('[data-status="pending"]')).waitFor({ timeout: WAIT_MS });
    const heldByServer = await historyOf(tess.context, suite.srv.url, samId);
    assert.deepEqual(heldByServer.map((m) => m.text), ['before going offline']);
    await screenshot(sam.page, 'offline-pending');

    // Back online: sent again with the same tempId, stored once, delivered to Tess's open page.
    await sam.context.setOffline(false);
    await sam.page.getByText('Connected', { exact: true }).waitFor({ timeout: WAIT_MS * 2 });
    for (const text of ['sent as the link drops', 'sent while offline']) {
      await tick(text).and(sam.page.locator('[data-status="delivered"]')).waitFor({ timeout: WAIT_MS });
    }
    const stored = await historyOf(tess.context, suite.srv.url, samId);
    assert.deepEqual(stored.map((m) => m.text), ['before going offline', 'sent as the link drops', 'sent while offline']);
    assert.deepEqual(stored.map((m) => m.seq), [1, 2, 3]);
    for (const m of stored) assert.match(m.tempId ?? '', /^t/, 'sent with a tempId');
    assert.deepEqual(await messageTexts(sam.page), ['before going offline', 'sent as the link drops', 'sent while offline']);

    // Tess's page shows each once, in order.
    await conversation(tess.page, `Sam ${tag}`).click();
    await message(tess.page, 'sent while offline').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await messageTexts(tess.page), ['before going offline', 'sent as the link drops', 'sent while offline']);
    await sam.context.close();
    await tess.context.close();
  });
});
