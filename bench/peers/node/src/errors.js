'use strict';

class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    if (fields) this.fields = fields;
  }

  toJSON() {
    const body = { error: this.code, message: this.message };
    if (this.fields) body.fields = this.fields;
    return body;
  }
}

const validationFailed = (fields, message = 'Validation failed') =>
  new ApiError(400, 'validation_failed', message, fields);
const notFound = (message) => new ApiError(404, 'not_found', message);
const unauthorized = (message = 'Invalid or expired token') => new ApiError(401, 'unauthorized', message);

module.exports = { ApiError, validationFailed, notFound, unauthorized };
