// Where the cursor rests: the server is told (`nib/cursor`), and gets the list's names and the
// ghost text's prompt ready there before the first key (nib's README: "Ready where the cursor rests").
import * as vscode from "vscode";
import { LanguageClient } from "vscode-languageclient/node";

const REST_MS = 100; // how long the cursor stays put before the server is told where it rests
const versions = new Map<string, number>(); // by document URI: its version at the cursor's last move
let restTimer: NodeJS.Timeout | undefined;

/** Tell the server where the cursor rests once it has stayed REST_MS where a move put it (a click,
 * a key that moves, Go to Line, another editor brought forward), not an edit: the edit tells the
 * server already. A move elsewhere, even to another language's editor, cancels the one pending. */
export function moved(editor: vscode.TextEditor | undefined, client: LanguageClient | undefined): void {
  clearTimeout(restTimer);
  const doc = editor?.document;
  if (!editor || !doc || doc.languageId !== "python" || !["file", "untitled"].includes(doc.uri.scheme)) {
    return;
  }
  const key = doc.uri.toString();
  // a move made by an edit (also the first move after an edit that moved nothing, such as a format)
  const typed = versions.has(key) && versions.get(key) !== doc.version;
  versions.set(key, doc.version);
  const at = editor.selection;
  if (typed || editor.selections.length !== 1 || !at.isEmpty || !client?.isRunning()) {
    return;
  }
  const version = doc.version;
  restTimer = setTimeout(() => {
    if (client.isRunning() && doc.version === version && !doc.isClosed) {
      void client.sendNotification("nib/cursor", {
        textDocument: { uri: client.code2ProtocolConverter.asUri(doc.uri) },
        position: client.code2ProtocolConverter.asPosition(at.active),
      });
    }
  }, REST_MS);
}

export function closed(doc: vscode.TextDocument): void {
  versions.delete(doc.uri.toString());
}

export function stop(): void {
  clearTimeout(restTimer);
}
