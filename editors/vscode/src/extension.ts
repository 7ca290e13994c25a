// nib for VS Code: starts `nib serve` over stdio and lets vscode-languageclient wire
// completion and inline completion. Settings under "nib" go to the server as they are
// (the same camelCase object the server documents), except "nib.server.*", which say
// how to start it.
import * as vscode from "vscode";
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
let healthyTimer: NodeJS.Timeout | undefined;

/** The settings the server reads: everything under "nib" but "server". */
function serverSettings(): Record<string, unknown> {
  const all = JSON.parse(JSON.stringify(vscode.workspace.getConfiguration("nib"))) as Record<string, unknown>;
  delete all.server;
  return all;
}

function serverCommand(): { command: string; args: string[] } {
  const config = vscode.workspace.getConfiguration("nib.server");
  const python = config.get<string>("python", "");
  if (python) {
    return { command: python, args: ["-m", "nib.server.cli", "serve"] };
  }
  const [command, ...args] = config.get<string[]>("command", ["nib", "serve"]);
  return { command, args };
}

function show(state: "starting" | "ready" | "error", detail = ""): void {
  const icon = { starting: "$(sync~spin)", ready: "$(check)", error: "$(error)" }[state];
  status.text = `${icon} nib`;
  status.tooltip = `nib: ${state}${detail ? ` (${detail})` : ""}. Click for the log.`;
  status.backgroundColor = state === "error" ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  status.show();
}

async function start(): Promise<void> {
  const { command, args } = serverCommand();
  // stdio without a transport option: with one, the client appends `--stdio` to the command
  const serverOptions: ServerOptions = { command, args };
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
        scheduleRestart();
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
  };
  client = new LanguageClient("nib", "nib", serverOptions, clientOptions);
  client.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      show("ready");
      clearTimeout(healthyTimer);
      healthyTimer = setTimeout(() => (restarts = 0), 60_000); // a minute up: the next crash starts over
    } else if (e.newState === State.Starting) {
      show("starting");
    }
  });
  show("starting");
  try {
    await client.start();
  } catch (e) {
    log.error(`nib could not start \`${command} ${args.join(" ")}\`: ${e}`);
    show("error", "could not start; see nib.server.python");
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

async function restart(): Promise<void> {
  clearTimeout(restartTimer);
  const old = client;
  client = undefined;
  if (old) {
    try {
      await old.dispose(2000);
    } catch {
      // already stopped
    }
  }
  await start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  log = vscode.window.createOutputChannel("nib", { log: true });
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.command = "nib.showLog";
  context.subscriptions.push(
    log,
    status,
    vscode.commands.registerCommand("nib.restart", () => restart()),
    vscode.commands.registerCommand("nib.showLog", () => log.show()),
    vscode.commands.registerCommand("nib.toggle", async () => {
      const config = vscode.workspace.getConfiguration("nib");
      await config.update("enable", !config.get<boolean>("enable", true), vscode.ConfigurationTarget.Global);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("nib.server")) {
        await restart(); // another command or interpreter
      } else if (e.affectsConfiguration("nib") && client?.isRunning()) {
        await client.sendNotification("workspace/didChangeConfiguration", { settings: { nib: serverSettings() } });
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  clearTimeout(restartTimer);
  clearTimeout(healthyTimer);
  await client?.stop();
}
