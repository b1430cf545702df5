// Owns escaping text for HTML (element content and quoted attributes) in the run report.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
