'use strict';
const express = require('express');
const chat = require('../chat');
const { protect } = require('../auth');

const router = express.Router();

router.get('/', protect, (req, res) => {
  res.json(chat.conversations(req.user.id));
});

module.exports = router;
