/** Markdown pieces for tooltips: values from the daemon must not turn into markup. */

/** Inline code that survives backticks and table pipes in the value. */
export function mdCode(value: string): string {
  const text = value.replace(/\|/g, '\\|');
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** Plain text with every Markdown metacharacter escaped. */
export function mdEscape(value: string): string {
  return value.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
