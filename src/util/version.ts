/** Ferry's version: the agent's metadata, `ferry version` and the helpers' health answers report it. */
export const FERRY_VERSION = '0.1.0';
