'use strict';
// MongoDB ObjectId layout: 4 bytes of seconds, 5 random bytes per process,
// a 3-byte counter. 24 lowercase hex characters that sort by creation time.
const crypto = require('node:crypto');

const processPart = crypto.randomBytes(5).toString('hex');
let counter = crypto.randomInt(0, 0xffffff);

function newObjectId() {
  counter = (counter + 1) & 0xffffff;
  const seconds = Math.floor(Date.now() / 1000);
  return seconds.toString(16).padStart(8, '0') + processPart + counter.toString(16).padStart(6, '0');
}

function isObjectId(value) {
  return typeof value === 'string' && /^[0-9a-f]{24}$/.test(value);
}

module.exports = { newObjectId, isObjectId };
