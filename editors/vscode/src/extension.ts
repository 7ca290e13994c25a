// nib for VS Code: starts `nib serve` over stdio and lets vscode-languageclient wire
// completion and inline completion. Settings under "nib" go to the server as they are
// (the same camelCase object the server documents), except "nib.server.*", which say
// how to start it.
//
// A workspace is not trusted with the settings that send code off the machine or choose
// what runs (an engine's URL and key variable, a model, the server's command): package.json
// lists them in `restrictedConfigurations` and gives them `"scope": "machine"`, so VS Code
// ignores a workspace's value of them, and nib reads them from the user's settings alone.
// The server runs isolated (`python -I`, outside the workspace): no file of a cloned
// repository (its json.py, sitecustomize.py, nib/) is imported. So nib also works in an
// untrusted workspace.
import * as jsonc from "jsonc-parser";
import * as vscode from "vscode";
import * as cursor from "./cursor";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;
let log: vscode.LogOutputChannel;
let restarts = 0; // consecutive crashes, for the back-off
let restartTimer: NodeJS.Timeout | undefined;
let restarting: Promise<void> = Promise.resolve(); // the last restart asked for (`restart`)
let healthyTimer: NodeJS.Timeout | undefined;
let userOnly: string[] = []; // "nib.engine.url", ...: package.json's restrictedConfigurations
let registered: string[] = []; // "nib.list.size", ...: package.json's settings
let serverCwd = ""; // the server's current folder: the extension's own, never the workspace
let startedWith = ""; // the command and arguments the server was started with, as JSON
let warned = false; // about a workspace that sets userOnly settings, once a session
let workspaceState: vscode.Memento; // "nib.off": nib: Toggle Completions in this workspace (never a file of it)

/** A user-only setting's value: the user's own, else the default; never a workspace's or a folder's. */
function userValue<T>(name: string): T | undefined {
  const seen = vscode.workspace.getConfiguration().inspect<T>(name);
  return seen?.globalValue ?? seen?.defaultValue;
}

/** Of a settings object under prefix ("nib"), the keys package.json declares, and the groups holding them.
 * VS Code hands on a workspace's keys that no extension declares: any other name the server read for a
 * user-only setting (an alias, a deprecated flat name) would be the workspace's. */
function registeredOnly(group: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(group)) {
    const name = `${prefix}.${key}`;
    if (registered.includes(name)) {
      out[key] = value;
    } else if (typeof value === "object" && value !== null && registered.some((r) => r.startsWith(`${name}.`))) {
      out[key] = registeredOnly(value as Record<string, unknown>, name);
    }
  }
  return out;
}

/** The settings the server reads: those nib declares under "nib" but "server", the user-only ones from the user. */
function serverSettings(): Record<string, unknown> {
  const raw = JSON.parse(JSON.stringify(vscode.workspace.getConfiguration("nib"))) as Record<string, unknown>;
  const all = registeredOnly(raw, "nib");
  delete all.server;
  if (offHere()) {
    all.enable = false;
  }
  // VS Code already drops a workspace's value of a "machine" setting (also one nested as
  // `"nib": {"engine": {...}}`); nib does not depend on it, nor on an editor built on VS Code doing so.
  for (const name of userOnly.filter((n) => !n.startsWith("nib.server."))) {
    const path = name.split(".").slice(1); // ["engine", "url"]
    let group = all;
    for (const key of path.slice(0, -1)) {
      group[key] = typeof group[key] === "object" && group[key] !== null ? group[key] : {};
      group = group[key] as Record<string, unknown>;
    }
    group[path[path.length - 1]] = userValue(name);
  }
  return all;
}

function serverCommand(): { command: string; args: string[] } {
  const python = userValue<string>("nib.server.python");
  if (python) {
    // -I: no PYTHONPATH, no user site, no script or current folder on sys.path
    return { command: python, args: ["-I", "-m", "nib.server.cli", "serve"] };
  }
  const [command, ...args] = userValue<string[]>("nib.server.command") ?? ["nib", "serve"];
  return { command, args };
}

/** The user-only settings that the workspace's settings files set, as VS Code names them.
 * The files themselves: VS Code drops a "machine" setting's workspace value before `inspect()` sees it. */
async function setByWorkspace(): Promise<string[]> {
  const found = new Set<string>();
  const folders = vscode.workspace.workspaceFolders ?? [];
  const files = folders.map((f) => vscode.Uri.joinPath(f.uri, ".vscode", "settings.json"));
  const workspaceFile = vscode.workspace.workspaceFile;
  if (workspaceFile && workspaceFile.scheme !== "untitled") {
    files.push(workspaceFile);
  }
  for (const file of files) {
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    } catch {
      continue; // no such file
    }
    const settings = jsonc.parse(text) as Record<string, unknown> | undefined;
    addUserOnly(file === workspaceFile ? settings?.settings : settings, "", found);
  }
  return userOnly.filter((name) => found.has(name));
}

/** Add to found the user-only settings in a settings object, flat ("nib.engine.url") or nested. */
function addUserOnly(settings: unknown, prefix: string, found: Set<string>): void {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
    return;
  }
  for (const [key, value] of Object.entries(settings)) {
    // "[python]": a language's block, under the same names
    const name = key.startsWith("[") ? prefix : prefix ? `${prefix}.${key}` : key;
    if (userOnly.includes(name)) {
      found.add(name);
    } else {
      addUserOnly(value, name, found);
    }
  }
}

/** Once a session: say that the workspace's values of user-only settings are ignored. */
async function warnAboutWorkspace(): Promise<void> {
  if (warned) {
    return;
  }
  const names = await setByWorkspace();
  if (names.length === 0 || warned) {
    return;
  }
  warned = true;
  const text =
    `nib: this workspace's settings set ${names.join(", ")}; nib ignores them: settings that send code off ` +
    "the machine or choose what runs are taken from your user settings only.";
  log.warn(text);
  void vscode.window.showWarningMessage(text);
}

/** The server's `nib/status` of a document: excluded (the `exclude` setting), or which model
 * answered its last ghost text, how long it took, what project context it had. */
interface Status {
  uri: string;
  excluded: boolean;
  model: string;
  ms: number;
  shown: boolean;
  definitions: number;
  chunks: number;
}

const statuses = new Map<string, Status>(); // by document URI, as the server received it
let running = false;
/** The status item's line for the last ghost text, e.g. "qwen2.5-coder-0.5b (cpu), 84 ms, context 2 files + 1 chunk". */
export function describe(s: Status): string {
  const context = s.definitions || s.chunks ? `, context ${s.definitions} files + ${s.chunks} chunks` : "";
  return `${s.model}, ${s.ms} ms${s.shown ? "" : " (nothing shown)"}${context}`;
}

type Shown = "starting" | "ready" | "error" | "off" | "manual" | "excluded";

function show(state: Shown, detail = ""): void {
  const icon = {
    starting: "$(sync~spin)",
    ready: "$(check)",
    error: "$(error)",
    off: "$(circle-slash)",
    manual: "$(debug-pause)",
    excluded: "$(eye-closed)",
  }[state];
  status.text = `${icon} nib`;
  status.tooltip = `nib: ${state}${detail ? ` (${detail})` : ""}. Click for the log.`;
  status.accessibilityInformation = { label: status.tooltip }; // screen readers, and the editor tests
  status.backgroundColor = state === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  status.show();
}

/** Whether nib: Toggle Completions turned nib off in this workspace. */
function offHere(): boolean {
  return workspaceState?.get<boolean>("nib.off", false) ?? false;
}

/** The status item for the active editor's document, once the server runs. */
function showActive(): void {
  if (!running) {
    return;
  }
  const config = vscode.workspace.getConfiguration("nib");
  const uri = vscode.window.activeTextEditor?.document.uri.toString();
  const s = uri ? statuses.get(uri) : undefined;
  if (offHere()) {
    show("off", "in this workspace; nib: Toggle Completions turns it on");
  } else if (!config.get<boolean>("enable", true)) {
    show("off", "turned off by nib.enable");
  } else if (s?.excluded) {
    show("excluded", "this file matches nib.exclude: nib neither completes in nor reads it");
  } else {
    const last = s?.model ? `last ghost text: ${describe(s)}` : "";
    if (config.get<string>("statement.trigger") === "manual") {
      show("manual", `ghost text when asked: Alt+\\ or nib: Ghost Text Now${last ? `; ${last}` : ""}`);
    } else {
      show("ready", last);
    }
  }
}

async function start(): Promise<void> {
  const { command, args } = serverCommand();
  startedWith = JSON.stringify({ command, args });
  log.info(`starting \`${command} ${args.join(" ")}\` in ${serverCwd}`);
  // stdio without a transport option: with one, the client appends `--stdio` to the command.
  // Its current folder is not the workspace: nothing there can shadow a module nib imports.
  const serverOptions: ServerOptions = { command, args, options: { cwd: serverCwd } };
  // A client replaced by a restart still reports (its start fails, its server closes): only the
  // current one's events count, or an old client's close would schedule another restart, which
  // would replace the new one while it starts, and so on (the likely cause of a server seen never
  // ready under load, where a workspace's settings file also restarted it: now it does not).
  const current = () => client === mine;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
    ],
    initializationOptions: serverSettings(),
    outputChannel: log,
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        if (current()) {
          scheduleRestart();
        }
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
  };
  const mine = new LanguageClient("nib", "nib", serverOptions, clientOptions);
  client = mine;
  mine.onNotification("nib/status", (s: Status) => {
    if (current()) {
      statuses.set(s.uri, s);
      showActive();
    }
  });
  mine.onDidChangeState((e) => {
    if (!current()) {
      return;
    }
    running = e.newState === State.Running;
    if (e.newState === State.Running) {
      showActive();
      clearTimeout(healthyTimer);
      healthyTimer = setTimeout(() => (restarts = 0), 60_000); // a minute up: the next crash starts over
    } else if (e.newState === State.Starting) {
      show("starting");
    }
  });
  show("starting");
  try {
    await mine.start();
  } catch (e) {
    if (!current()) {
      return; // stopped by a restart while it started
    }
    // Also tried again later: the settings may not have been loaded yet, or nib may be installed meanwhile.
    log.error(`nib could not start \`${command} ${args.join(" ")}\`: ${e}`);
    scheduleRestart();
  }
}

/** After a crash: restart in 1, 2, 4 ... 30 s. */
function scheduleRestart(): void {
  const delay = Math.min(30_000, 1000 * 2 ** restarts);
  restarts += 1;
  show("error", `stopped; restarting in ${delay / 1000} s`);
  log.warn(`nib's server stopped; restarting in ${delay / 1000} s`);
  clearTimeout(restartTimer);
  restartTimer = setTimeout(() => void restart(), delay);
}

/** Stop the server and start it again. Restarts run one after another: two at once would
 * each start a client, and the one replaced first would go on running unseen. */
function restart(): Promise<void> {
  restarting = restarting.then(restartNow, restartNow);
  return restarting;
}

async function restartNow(): Promise<void> {
  clearTimeout(restartTimer);
  const old = client;
  client = undefined; // from here on, the old client's events are ignored (`start`)
  running = false;
  if (old) {
    try {
      await old.dispose(2000);
    } catch {
      // a client still starting refuses to stop; its server is killed after the 2 s
    }
  }
  void start(); // its client is the current one at once; not waited for: a server slow to start
  // would hold up every restart behind it
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  log = vscode.window.createOutputChannel("nib", { log: true });
  userOnly = context.extension.packageJSON.capabilities.untrustedWorkspaces.restrictedConfigurations;
  registered = Object.keys(context.extension.packageJSON.contributes.configuration.properties);
  serverCwd = context.extensionPath;
  workspaceState = context.workspaceState;
  const settingsFiles = vscode.workspace.createFileSystemWatcher("**/.vscode/settings.json");
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.command = "nib.showLog";
  context.subscriptions.push(
    log,
    status,
    settingsFiles,
    settingsFiles.onDidCreate(() => warnAboutWorkspace()),
    settingsFiles.onDidChange(() => warnAboutWorkspace()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => warnAboutWorkspace()),
    vscode.commands.registerCommand("nib.restart", () => restart()),
    vscode.commands.registerCommand("nib.showLog", () => log.show()),
    vscode.commands.registerCommand("nib.toggle", async () => {
      // Where a folder is open, this workspace only, kept in VS Code's state for it (a setting would
      // be written into the repository's .vscode/settings.json); else nib.enable for every window.
      if (!vscode.workspace.workspaceFolders?.length) {
        const config = vscode.workspace.getConfiguration("nib");
        await config.update("enable", !config.get<boolean>("enable", true), vscode.ConfigurationTarget.Global);
        return;
      }
      await workspaceState.update("nib.off", !offHere());
      showActive();
      if (client?.isRunning()) {
        await client.sendNotification("workspace/didChangeConfiguration", { settings: { nib: serverSettings() } });
      }
    }),
    vscode.commands.registerCommand("nib.trigger", () =>
      vscode.commands.executeCommand("editor.action.inlineSuggest.trigger"),
    ),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      showActive();
      cursor.moved(editor, client);
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => cursor.moved(e.textEditor, client)),
    vscode.workspace.onDidCloseTextDocument((doc) => cursor.closed(doc)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      void warnAboutWorkspace();
      showActive();
      // A workspace's nib.server.* changes nothing (user-only), so it restarts nothing either.
      if (e.affectsConfiguration("nib.server") && JSON.stringify(serverCommand()) !== startedWith) {
        await restart(); // another command or interpreter
      } else if (e.affectsConfiguration("nib") && client?.isRunning()) {
        await client.sendNotification("workspace/didChangeConfiguration", { settings: { nib: serverSettings() } });
      }
    }),
  );
  void warnAboutWorkspace();
  await start();
}

export async function deactivate(): Promise<void> {
  clearTimeout(restartTimer);
  cursor.stop();
  clearTimeout(healthyTimer);
  await client?.stop();
}
