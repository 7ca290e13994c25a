"""`NibProtocol.warm`: a keystroke's messages read once at `initialized`, so that the first keystroke's do not wait for cattrs."""

from pygls.lsp.server import LanguageServer

from nib.server.protocol import _KEYSTROKE, NibProtocol


def test_the_warm_up_reads_valid_messages_of_a_keystrokes_kinds_and_leaves_nothing_behind():
    protocol = LanguageServer("test", "1", protocol_cls=NibProtocol).protocol
    protocol.warm()
    # a sample that no longer reads (a field renamed) would come back Rejected and warm nothing
    read = [type(protocol.structure_message(m)).__name__ for m in _KEYSTROKE]
    assert read == ["DidChangeTextDocumentNotification", "CompletionRequest", "InlineCompletionRequest"]
    assert (protocol._result_types, protocol._request_futures) == ({}, {})
