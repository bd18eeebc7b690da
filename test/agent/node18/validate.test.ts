// test/agent/validate.test.ts with the agent on Debian 12's Node.js 18 (see use-node18.ts)
import './use-node18.js';
import '../validate.test.js';
