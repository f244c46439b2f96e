#!/usr/bin/env node
// Runs the compiled CLI: `npm install` builds it (the prepare script) and `npm start` rebuilds it first.
import '../dist/adapters/node/main.js'
