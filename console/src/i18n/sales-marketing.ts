// Labels of the sales screens: marketing (issue 11). zh is the default; en has the same keys (i18n.test.ts).
export const zh = {};
export const en: typeof zh = {};
