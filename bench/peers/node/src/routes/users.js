'use strict';
const express = require('express');
const Users = require('../models/users');
const { protect } = require('../auth');
const { Problems, intParam, stringParam, MAX_SKIP } = require('../validation');
const { userJSON } = require('../serialize');

const router = express.Router();

// Everyone but the caller, by name, with `online`; ?limit&skip&q.
router.get('/', protect, (req, res) => {
  const problems = new Problems();
  const limit = intParam(req.query, 'limit', 1, 200, 50, 'must be an integer from 1 to 200', problems);
  const skip = intParam(req.query, 'skip', 0, MAX_SKIP, 0, 'must be a non-negative integer', problems);
  problems.throwIfAny();
  const prefix = (stringParam(req.query, 'q') || '').trim().replace(/[A-Z]+/g, (s) => s.toLowerCase());
  const { realtime } = req.app.locals;
  const users = Users.list({ exceptId: req.user.id, prefix, limit, skip });
  res.json(users.map((u) => userJSON(u, realtime.isOnline(u.id))));
});

module.exports = router;
