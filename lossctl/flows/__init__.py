"""The flows of the commands: eval, compare and recommend, each minus printing."""
