#!/usr/bin/env node
// The trust-proxy command (issue 6).
export {}
