"""`NibProtocol.warm`: a keystroke's messages read once at `initialized`, so that the first
keystroke's do not wait for cattrs to write its code for them."""

from pygls.lsp.server import LanguageServer

from nib.server.protocol import _KEYSTROKE, NibProtocol


def test_the_warm_up_s_samples_read_as_the_messages_a_keystroke_brings():
    protocol = LanguageServer("test", "1", protocol_cls=NibProtocol).protocol
    protocol.warm()
    # a sample that no longer reads (a field renamed) would come back Rejected and warm nothing
    read = [type(protocol.structure_message(m)).__name__ for m in _KEYSTROKE]
    assert read == [
        "DidChangeTextDocumentNotification",
        "CancelNotification",
        "CompletionRequest",
        "InlineCompletionRequest",
    ]
