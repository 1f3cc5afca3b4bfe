'use strict';
const express = require('express');
const chat = require('../chat');
const { protect } = require('../auth');
const { Problems, stringField } = require('../validation');
const { messageJSON } = require('../serialize');

const router = express.Router();

// 201 with the stored message; 200 with the original on a tempId retry.
router.post('/send', protect, (req, res) => {
  const { message, duplicate } = chat.sendMessage(req.user.id, req.body);
  res.status(duplicate ? 200 : 201).json(messageJSON(message));
});

// History with a conversation id or the other user's id.
router.get('/:id', protect, (req, res) => {
  res.json(chat.history(req.user.id, req.params.id, req.query));
});

router.post('/:id/read', protect, (req, res) => {
  const problems = new Problems();
  const upTo = stringField(req.body, 'upTo', problems);
  problems.throwIfAny();
  res.json(chat.markRead(req.user.id, req.params.id, upTo));
});

module.exports = router;
