// The web client in a real browser (Debian's chromium, playwright-core)
// against the real parleyd serving it: direct chat both ways with ticks,
// typing, presence, reload, an offline page catching up, a three-member
// group; screenshots, first-screen time and an accessibility check.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { uniqueEmail } from '../integration/lib/server.mjs';
import {
  browserSuite,
  ARTIFACTS, WAIT_MS, firstScreenMs, register, person, conversation,
  message, messageTexts, send, composer, checkAccessibility, screenshot,
} from './lib.mjs';

// The first screen's time is measured here and recorded (first-screen.json,
// docs/benchmarks.md against the 1 s target), not asserted: a timing on two
// shared cores is a benchmark's figure, not a test's verdict.

describe('web client in chromium', () => {
  // Short pings, so a page cut off by setOffline notices within seconds.
  const suite = browserSuite({ PING_INTERVAL_MS: '1000', PING_TIMEOUT_MS: '1000' });
  const open = (opts) => suite.open(opts);

  test('the first screen renders (its time recorded) and passes axe', async () => {
    const { page } = await open();
    const ms = await firstScreenMs(page);
    await page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: WAIT_MS });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'first-screen.json'), JSON.stringify({ firstScreenMs: ms }));
    console.log(`first screen: ${ms.toFixed(0)} ms (target 1000 ms)`);
    assert.ok(Number.isFinite(ms) && ms > 0, `first screen mark: ${ms}`);
    await checkAccessibility(page, 'the log-in screen');
    await screenshot(page, 'login');
  });

  test('two users chat both ways: ticks, typing, presence, reload, offline catch-up', async () => {
    const tag = Date.now().toString(36);
    const aliceName = `Alice ${tag}`;
    const bobName = `Bob ${tag}`;
    const alice = await open();
    const bob = await open();
    await register(alice.page, aliceName, uniqueEmail('alice'));
    await register(bob.page, bobName, uniqueEmail('bob'));

    // Alice finds Bob, who is online, and writes first.
    await alice.page.getByLabel('Search people').fill(bobName);
    await person(alice.page, bobName).locator('[data-online="true"]').waitFor({ timeout: WAIT_MS });
    await person(alice.page, bobName).click();
    await send(alice.page, 'hello bob');
    const tick = alice.page.locator('.msg.mine .tick').last();
    // Bob's page acks it without opening the conversation: delivered, unread.
    await tick.and(alice.page.locator('[data-status="delivered"]')).waitFor({ timeout: WAIT_MS });
    const badge = conversation(bob.page, aliceName).getByLabel('1 unread');
    await badge.waitFor({ timeout: WAIT_MS });
    // Bob opens it: read.
    await conversation(bob.page, aliceName).click();
    await message(bob.page, 'hello bob').waitFor({ timeout: WAIT_MS });
    await tick.and(alice.page.locator('[data-status="read"]')).waitFor({ timeout: WAIT_MS });
    await badge.waitFor({ state: 'detached', timeout: WAIT_MS });

    // Typing shows while Bob types and clears when his message arrives.
    await composer(bob.page).pressSequentially('hi al', { delay: 20 });
    const typing = alice.page.getByText(`${bobName} is typing…`);
    await typing.waitFor({ timeout: WAIT_MS });
    await composer(bob.page).pressSequentially('ice');
    await composer(bob.page).press('Enter');
    await message(alice.page, 'hi alice').waitFor({ timeout: WAIT_MS });
    await typing.waitFor({ state: 'detached', timeout: WAIT_MS });
    await screenshot(alice.page, 'direct-chat');
    await checkAccessibility(alice.page, 'a direct conversation');

    // A reload keeps the session (cookie) and the conversation.
    await alice.page.reload();
    await conversation(alice.page, bobName).click();
    await message(alice.page, 'hi alice').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await messageTexts(alice.page), ['hello bob', 'hi alice']);

    // Offline while Bob writes three messages: after reconnecting, each once, in order.
    await alice.context.setOffline(true);
    await alice.page.getByText('Reconnecting…').waitFor({ timeout: WAIT_MS });
    // Stored (acked by the server) while Alice cannot hear of them.
    for (const text of ['while away 1', 'while away 2', 'while away 3']) await send(bob.page, text);
    await bob.page.locator('.msg.mine .tick[data-status="sent"], .msg.mine .tick[data-status="delivered"]')
      .nth(2).waitFor({ timeout: WAIT_MS });
    await alice.context.setOffline(false);
    await alice.page.getByText('Connected', { exact: true }).waitFor({ timeout: WAIT_MS * 2 });
    await message(alice.page, 'while away 3').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await messageTexts(alice.page),
      ['hello bob', 'hi alice', 'while away 1', 'while away 2', 'while away 3']);

    // Bob's page closes: his dot goes offline on Alice's list.
    await bob.context.close();
    await alice.page.getByLabel('Search people').fill(bobName);
    await person(alice.page, bobName).locator('[data-online="false"]').waitFor({ timeout: WAIT_MS });

    // A phone-sized screen shows one pane at a time.
    await alice.page.setViewportSize({ width: 390, height: 760 });
    await screenshot(alice.page, 'direct-chat-phone');
  });

  test('a three-member group chats, renames, and removes a member', async () => {
    const tag = Date.now().toString(36);
    const names = [`Carol ${tag}`, `Dave ${tag}`, `Erin ${tag}`];
    const [carol, dave, erin] = [await open(), await open(), await open()];
    for (const [i, u] of [carol, dave, erin].entries()) await register(u.page, names[i], uniqueEmail('group'));

    // Carol creates the group with the keyboard-reachable dialog.
    // The people list (everyone, no search) is what the dialog offers.
    for (const n of names.slice(1)) await person(carol.page, n).waitFor({ timeout: WAIT_MS });
    await carol.page.getByRole('button', { name: 'New group' }).click();
    await carol.page.getByRole('dialog').getByLabel('Group name').fill('Trio');
    await carol.page.getByRole('dialog').getByLabel(names[1]).check();
    await carol.page.getByRole('dialog').getByLabel(names[2]).check();
    await carol.page.getByRole('button', { name: 'Create group' }).click();
    await carol.page.getByRole('heading', { name: 'Trio' }).waitFor({ timeout: WAIT_MS });

    for (const u of [dave, erin]) {
      await conversation(u.page, 'Trio').click();
      await u.page.getByRole('heading', { name: 'Trio' }).waitFor({ timeout: WAIT_MS });
    }
    await send(carol.page, 'hello trio');
    for (const u of [dave, erin]) await message(u.page, 'hello trio').waitFor({ timeout: WAIT_MS });
    // Both have it open: read by all, with the counts on hover.
    await carol.page.locator('.msg.mine .tick[data-status="read"][title*="read by 2 of 2"]').waitFor({ timeout: WAIT_MS });
    await send(dave.page, 'dave here');
    for (const u of [carol, erin]) await message(u.page, 'dave here').waitFor({ timeout: WAIT_MS });

    // A page reloaded between two members' reads shows every reader the
    // server counts, not only the reads it saw itself.
    const counted = (text, counts) => carol.page.locator('.msg.mine', { hasText: text })
      .locator(`.tick[title*="${counts}"]`);
    await erin.context.setOffline(true);
    await erin.page.getByText('Reconnecting…').waitFor({ timeout: WAIT_MS });
    await send(carol.page, 'counted across a reload');
    await message(dave.page, 'counted across a reload').waitFor({ timeout: WAIT_MS });
    await counted('counted across a reload', 'read by 1 of 2').waitFor({ timeout: WAIT_MS });
    await carol.page.reload();
    await conversation(carol.page, 'Trio').click();
    await counted('counted across a reload', 'read by 1 of 2').waitFor({ timeout: WAIT_MS });
    await erin.context.setOffline(false);
    await message(erin.page, 'counted across a reload').waitFor({ timeout: WAIT_MS * 2 });
    await counted('counted across a reload', 'read by 2 of 2').waitFor({ timeout: WAIT_MS });

    // Dave renames it; everyone sees the new name.
    await dave.page.getByRole('button', { name: 'Group info' }).click();
    await dave.page.getByRole('region', { name: 'Group info' }).getByLabel('Group name').fill('Trio renamed');
    await dave.page.getByRole('button', { name: 'Rename' }).click();
    for (const u of [carol, dave, erin]) {
      await u.page.getByRole('heading', { name: 'Trio renamed' }).waitFor({ timeout: WAIT_MS });
    }

    // Carol (the owner) removes Erin, whose page stops showing new messages.
    await carol.page.getByRole('button', { name: 'Group info' }).click();
    await carol.page.getByRole('button', { name: `Remove ${names[2]}` }).click();
    await erin.page.getByText('You are no longer a member of this group.').waitFor({ timeout: WAIT_MS });
    await send(carol.page, 'just us two');
    await message(dave.page, 'just us two').waitFor({ timeout: WAIT_MS });
    await send(dave.page, 'indeed');
    await message(carol.page, 'indeed').waitFor({ timeout: WAIT_MS });
    // Erin's socket is still connected (a direct message would arrive), yet
    // nothing of the group after her removal reached her page.
    assert.equal(await message(erin.page, 'just us two').count(), 0);
    assert.equal(await message(erin.page, 'indeed').count(), 0);
    assert.equal(await conversation(erin.page, 'Trio renamed').count(), 0);
    await screenshot(carol.page, 'group-chat');
    await checkAccessibility(carol.page, 'a group conversation with its info panel');
  });

  test('a group adds a member, shows typing to the others, is read by all, and loses one who leaves', async () => {
    const tag = Date.now().toString(36);
    const names = [`Gina ${tag}`, `Hal ${tag}`, `Ivy ${tag}`, `Jon ${tag}`];
    const users = [];
    for (const n of names) {
      const u = await open();
      await register(u.page, n, uniqueEmail('grow'));
      users.push(u);
    }
    const [gina, hal, ivy, jon] = users;
    for (const n of names.slice(1)) await person(gina.page, n).waitFor({ timeout: WAIT_MS });

    await gina.page.getByRole('button', { name: 'New group' }).click();
    const dialog = gina.page.getByRole('dialog');
    await dialog.getByLabel('Group name').fill('Quartet');
    await dialog.getByLabel(names[1]).check();
    await dialog.getByLabel(names[2]).check();
    await gina.page.getByRole('button', { name: 'Create group' }).click();
    await gina.page.getByRole('heading', { name: 'Quartet' }).waitFor({ timeout: WAIT_MS });
    await send(gina.page, 'before jon joined');
    for (const u of [hal, ivy]) {
      await conversation(u.page, 'Quartet').click();
      await message(u.page, 'before jon joined').waitFor({ timeout: WAIT_MS });
    }

    // Gina adds Jon: his page lists the group (conversation:updated) and reads its history.
    await gina.page.getByRole('button', { name: 'Group info' }).click();
    const ginaInfo = gina.page.getByRole('region', { name: 'Group info' });
    await ginaInfo.getByLabel('Add a member').selectOption({ label: names[3] });
    await ginaInfo.getByRole('button', { name: 'Add', exact: true }).click();
    await ginaInfo.getByRole('button', { name: `Remove ${names[3]}` }).waitFor({ timeout: WAIT_MS });
    await conversation(jon.page, 'Quartet').click();
    await message(jon.page, 'before jon joined').waitFor({ timeout: WAIT_MS });

    // Hal types: the three others see it, and it clears when his message arrives.
    await composer(hal.page).pressSequentially('hal ty', { delay: 20 });
    const typing = (u) => u.page.getByText(`${names[1]} is typing…`);
    for (const u of [gina, ivy, jon]) await typing(u).waitFor({ timeout: WAIT_MS });
    await composer(hal.page).pressSequentially('ping');
    await composer(hal.page).press('Enter');
    for (const u of [gina, ivy, jon]) {
      await message(u.page, 'hal typing').waitFor({ timeout: WAIT_MS });
      await typing(u).waitFor({ state: 'detached', timeout: WAIT_MS });
    }

    // Everyone has the group open: Gina's message is read by all three, with the counts.
    await send(gina.page, 'read by all?');
    for (const u of [hal, ivy, jon]) await message(u.page, 'read by all?').waitFor({ timeout: WAIT_MS });
    const tick = gina.page.locator('.msg.mine', { hasText: 'read by all?' }).locator('.tick');
    await tick.and(gina.page.locator('[data-status="read"]')).waitFor({ timeout: WAIT_MS });
    assert.equal(await tick.getAttribute('title'), 'delivered to 3 of 3, read by 3 of 3');
    assert.equal(await tick.getAttribute('aria-label'), 'Read: delivered to 3 of 3, read by 3 of 3');

    // Ivy leaves: the group leaves her list, and the others see her gone.
    await ivy.page.getByRole('button', { name: 'Group info' }).click();
    await ivy.page.getByRole('button', { name: 'Leave group' }).click();
    await conversation(ivy.page, 'Quartet').waitFor({ state: 'detached', timeout: WAIT_MS });
    await ivy.page.getByText('Choose a conversation or a person to start chatting.').waitFor({ timeout: WAIT_MS });
    await ginaInfo.getByRole('button', { name: `Remove ${names[2]}` }).waitFor({ state: 'detached', timeout: WAIT_MS });
    await hal.page.getByRole('button', { name: 'Group info' }).click();
    const halInfo = hal.page.getByRole('region', { name: 'Group info' });
    await halInfo.getByText(names[3]).waitFor({ timeout: WAIT_MS });
    assert.equal(await halInfo.getByText(names[2]).count(), 0);
    // Read by all now means the two left.
    await send(gina.page, 'three of us');
    for (const u of [hal, jon]) await message(u.page, 'three of us').waitFor({ timeout: WAIT_MS });
    const tick2 = gina.page.locator('.msg.mine', { hasText: 'three of us' }).locator('.tick');
    await tick2.and(gina.page.locator('[data-status="read"]')).waitFor({ timeout: WAIT_MS });
    assert.equal(await tick2.getAttribute('title'), 'delivered to 2 of 2, read by 2 of 2');
    assert.equal(await conversation(ivy.page, 'Quartet').count(), 0);

    // Gina adds Ivy back while Ivy's page is still open: the group returns
    // to her list, and what was sent while she was out fills in, once.
    await ginaInfo.getByLabel('Add a member').selectOption({ label: names[2] });
    await ginaInfo.getByRole('button', { name: 'Add', exact: true }).click();
    await conversation(ivy.page, 'Quartet').click();
    await message(ivy.page, 'three of us').waitFor({ timeout: WAIT_MS });
    assert.equal(await message(ivy.page, 'read by all?').count(), 1);
    assert.equal(await message(ivy.page, 'three of us').count(), 1);
    await screenshot(gina.page, 'group-grows');
    for (const u of users) await u.context.close();
  });
});
