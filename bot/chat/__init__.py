"""Chat: operators and subscribers talking to the bot in Telegram.

- `gate`: who may do what, decided once per update by numeric user id — never by username or
  chat title — with stale and edited commands refused and strangers answered at most once a
  minute. Pure: updates in, decisions out; `now` is a parameter.
- `commands`: the command table (name, who may use it, whether it changes anything, its help)
  and the parsing of a command's arguments into typed values, with errors that say what is
  wrong.

May import: bot.model, bot.errors, bot.log, bot.config and bot.classify (commands validate what
they are given with the same code as the config file). The runtime wires it to Telegram.
"""
