// The web client with the keyboard alone, and on a phone-sized touch screen:
// register, open a conversation, send, create a group with Tab, Shift+Tab,
// Enter, Space and Escape only, a visible focus indicator at every stop; at
// 375x740 the list and the chat fit the width, the composer is on screen,
// list -> chat -> back works, and axe finds nothing serious.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEmail, newUser } from '../integration/lib/server.mjs';
import {
  browserSuite,
  WAIT_MS, register, person, conversation, message, messageTexts, composer,
  checkAccessibility, screenshot, whoAmI, historyOf, tabTo, assertFocusVisible, assertNoHorizontalScroll,
  assertInViewport,
} from './lib.mjs';

describe('web client: keyboard and phone', () => {
  const suite = browserSuite();
  const open = (opts) => suite.open(opts);

  test('the keyboard alone: register, open a conversation, send, create a group', async () => {
    const tag = Date.now().toString(36);
    const kim = await newUser(suite.srv.url, { name: `Kim ${tag}` });
    const name = `Keys ${tag}`;
    const { page } = await open();
    const kb = page.keyboard;
    await page.getByRole('button', { name: 'Log in', exact: true }).waitFor({ timeout: WAIT_MS });

    // Register: to the switch, Enter, then the form field by field.
    await tabTo(page, page.getByRole('button', { name: 'Create an account' }));
    await kb.press('Enter');
    const nameField = page.getByLabel('Name');
    await nameField.waitFor({ timeout: WAIT_MS });
    await tabTo(page, nameField, { backward: true });
    await kb.type(name);
    await kb.press('Tab');
    await assertFocusVisible(page.getByLabel('Email'));
    await kb.type(uniqueEmail('keys'));
    await kb.press('Tab');
    await assertFocusVisible(page.getByLabel('Password'));
    await kb.type('correct horse battery');
    await kb.press('Enter');
    await page.getByRole('button', { name: 'Log out' }).waitFor({ timeout: WAIT_MS });
    await page.getByText('Connected', { exact: true }).waitFor({ timeout: WAIT_MS });

    // Open the conversation with Kim from the people list; the composer takes the focus.
    await tabTo(page, person(page, kim.name));
    await kb.press('Enter');
    await page.getByRole('heading', { name: kim.name }).waitFor({ timeout: WAIT_MS });
    await assertFocusVisible(composer(page));
    await kb.type('sent with keys');
    await kb.press('Enter');
    await message(page, 'sent with keys').waitFor({ timeout: WAIT_MS });
    await page.locator('.msg.mine .tick[data-status="sent"]').waitFor({ timeout: WAIT_MS });
    const me = await whoAmI(page.context(), suite.srv.url);
    const kimSees = await fetch(`${suite.srv.url}/api/messages/${me._id}`, { headers: { authorization: `Bearer ${kim.token}` } });
    assert.deepEqual((await kimSees.json()).map((m) => m.text), ['sent with keys']);

    // The group dialog: Escape closes it and gives the focus back.
    const newGroup = page.getByRole('button', { name: 'New group' });
    await tabTo(page, newGroup, { backward: true });
    await kb.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New group' });
    await dialog.waitFor({ timeout: WAIT_MS });
    await kb.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: WAIT_MS });
    await assertFocusVisible(newGroup);

    // Create a group: name, Kim's box with Space, Create group with Enter.
    await kb.press('Enter');
    await dialog.waitFor({ timeout: WAIT_MS });
    await tabTo(page, dialog.getByLabel('Group name'));
    await kb.type('Keyboard club');
    const kimBox = dialog.getByLabel(kim.name);
    await tabTo(page, kimBox);
    await kb.press('Space');
    assert.equal(await kimBox.isChecked(), true);
    await tabTo(page, dialog.getByRole('button', { name: 'Create group' }));
    await kb.press('Enter');
    await page.getByRole('heading', { name: 'Keyboard club' }).waitFor({ timeout: WAIT_MS });
    await dialog.waitFor({ state: 'detached', timeout: WAIT_MS });
    await assertFocusVisible(composer(page));
    await kb.type('hello club');
    await kb.press('Enter');
    await message(page, 'hello club').waitFor({ timeout: WAIT_MS });

    // Group info opens and closes from the keyboard; Escape closes it too.
    const info = page.getByRole('button', { name: 'Group info' });
    await tabTo(page, info, { backward: true });
    await kb.press('Enter');
    const panel = page.getByRole('region', { name: 'Group info' });
    await panel.waitFor({ timeout: WAIT_MS });
    await tabTo(page, panel.getByLabel('Group name'));
    await kb.press('Escape');
    await panel.waitFor({ state: 'detached', timeout: WAIT_MS });
    await assertFocusVisible(info);

    // Back to the direct conversation with Shift+Tab into the list.
    await tabTo(page, conversation(page, kim.name), { backward: true });
    await kb.press('Enter');
    await message(page, 'sent with keys').waitFor({ timeout: WAIT_MS });
    await screenshot(page, 'keyboard');
    await checkAccessibility(page, 'the chat reached by keyboard');
  });

  test('a phone-sized touch screen: list, chat, back; nothing scrolls sideways', async () => {
    const tag = Date.now().toString(36);
    // A long name and an unbroken message: what pushes a narrow layout wide.
    const name = `Philippa Featherstonehaugh-Worthington ${tag}`;
    const pat = await newUser(suite.srv.url, { name: `Pat ${tag}` });
    const phone = await open({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const { page } = phone;
    await register(page, name, uniqueEmail('phone'));
    const me = await whoAmI(phone.context, suite.srv.url);
    const long = `https://example.com/${'a-very-long-path-segment-'.repeat(8)}`;
    for (const text of ['hi from pat', long]) {
      const res = await fetch(`${suite.srv.url}/api/messages/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${pat.token}` },
        body: JSON.stringify({ to: me._id, text }),
      });
      assert.equal(res.status, 201);
    }

    // The list: Pat's conversation with its badge, within the width.
    const row = conversation(page, pat.name);
    await row.getByLabel('2 unread').waitFor({ timeout: WAIT_MS });
    await assertNoHorizontalScroll(page, 'the conversation list');
    await assertInViewport(page, page.getByRole('button', { name: 'Log out' }), 'Log out');
    await checkAccessibility(page, 'the conversation list on a phone');
    await screenshot(page, 'phone-list');

    // The chat: one pane, composer and Send on screen.
    await row.tap();
    await page.getByRole('heading', { name: pat.name }).waitFor({ timeout: WAIT_MS });
    await message(page, long).waitFor({ timeout: WAIT_MS });
    assert.equal(await row.isVisible(), false, 'the list gives way to the chat');
    await assertNoHorizontalScroll(page, 'the chat');
    await assertInViewport(page, composer(page), 'the composer');
    const sendButton = page.getByRole('button', { name: 'Send', exact: true });
    await assertInViewport(page, sendButton, 'the Send button');
    await assertInViewport(page, page.getByRole('button', { name: 'Back to conversations' }), 'the back button');
    await composer(page).fill('typed on a phone');
    await sendButton.tap();
    await message(page, 'typed on a phone').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await messageTexts(page), ['hi from pat', long, 'typed on a phone']);
    await assertNoHorizontalScroll(page, 'the chat after sending');
    await checkAccessibility(page, 'a conversation on a phone');
    await screenshot(page, 'phone-chat');
    const patSees = await historyOf(phone.context, suite.srv.url, pat.user._id);
    assert.deepEqual(patSees.map((m) => m.text), ['hi from pat', long, 'typed on a phone']);

    // Back: the list again, read now, and the chat gone.
    await page.getByRole('button', { name: 'Back to conversations' }).tap();
    await row.waitFor({ timeout: WAIT_MS });
    assert.equal(await row.getByLabel(/unread/).count(), 0);
    assert.equal(await composer(page).count(), 0);
    await assertNoHorizontalScroll(page, 'the list after going back');

    // The group dialog fits too.
    await page.getByRole('button', { name: 'New group' }).tap();
    const dialog = page.getByRole('dialog', { name: 'New group' });
    await dialog.waitFor({ timeout: WAIT_MS });
    await assertInViewport(page, dialog, 'the New group dialog');
    await assertInViewport(page, dialog.getByRole('button', { name: 'Create group' }), 'Create group');
    await assertNoHorizontalScroll(page, 'the New group dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).tap();
    await dialog.waitFor({ state: 'detached', timeout: WAIT_MS });
    await phone.context.close();
  });
});
