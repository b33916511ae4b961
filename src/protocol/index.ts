export * from './constants.js';
export * from './errors.js';
export * from './envelope.js';
export * from './client-messages.js';
export * from './server-messages.js';
export * from './parse.js';
export * from './json-schema.js';
