// Public surface of key material and wrapping (request signing lives in signing*.ts, imported directly).
export * from './backends.js';
export * from './errors.js';
export * from './key-material.js';
export * from './root-key.js';
