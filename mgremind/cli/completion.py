"""`mgremind completion bash|zsh|fish`, and the words the scripts ask for (`mgremind __complete`)."""

import argparse
import datetime as dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mgremind.cli.arguments import COMMANDS, EXIT_OK, _first_word, build_parser
from mgremind.cli.records import _records
from mgremind.config.paths import ConfigNotFound, find_config
from mgremind.loader import load_config
from mgremind.model import ConfigError, StateError
from mgremind.plan import plan_days
from mgremind.render import shell_word

if TYPE_CHECKING:
    pass


def _completion(args: argparse.Namespace) -> int:
    parser = build_parser()
    options = [option for action in parser._actions for option in action.option_strings]
    commands = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, (summary, _) in COMMANDS.items():
                sub = action.choices[name]
                own = [o for a in sub._actions for o in a.option_strings if o.startswith("--") or o == "-c"]
                own += [str(c) for a in sub._actions if not a.option_strings and a.choices for c in a.choices]
                commands.append((name, summary, own))
    print(completion_script(args.shell, options, commands), end="")
    print(completion_words_script(args.shell, COMPLETE, ("taken", "skip", "undo"), ("stock",)), end="")
    return EXIT_OK


COMPLETE = "__complete"  # `mgremind __complete ids|supplements [-c FILE]`: not a command anyone types


def _complete_words(argv: Sequence[str]) -> int:
    """For the completion scripts: today's reminder ids (`ids`) or the supplement ids
    (`supplements`), one a line; nothing, and exit 0, without a usable configuration."""
    given = next((argv[i + 1] for i in range(len(argv) - 1) if argv[i] in ("-c", "--config")), None)
    kind = _first_word(argv[argv.index(COMPLETE) + 1 :])
    try:
        config = load_config(find_config(given, os.environ))
        if kind == "ids":
            today = dt.datetime.now(config.zone).date()
            words = [reminder.id for reminder in plan_days(config, today, 1, _records(config).reports)[0].reminders]
        else:
            words = [supplement.id for supplement in config.supplements] if kind == "supplements" else []
    except (ConfigNotFound, ConfigError, StateError, OSError):
        return EXIT_OK
    print("".join(f"{word}\n" for word in words), end="")
    return EXIT_OK


def completion_script(shell: str, options: Sequence[str], commands: Sequence[tuple[str, str, Sequence[str]]]) -> str:
    """A completion script for `shell` (bash, zsh, fish): the commands, the options before them
    (`options`) and each command's own; made from the command table, so a new command completes."""
    names = " ".join(name for name, _, _ in commands)
    if shell == "fish":
        lines = [f"complete -c mgremind -f -n __fish_use_subcommand -s {o[1:]}" for o in options if len(o) == 2]
        lines += [f"complete -c mgremind -f -n __fish_use_subcommand -l {o[2:]}" for o in options if o[:2] == "--"]
        for name, summary, own in commands:
            lines.append(f"complete -c mgremind -f -n __fish_use_subcommand -a {name} -d {shell_word(summary)}")
            lines += [
                f"complete -c mgremind -f -n '__fish_seen_subcommand_from {name}' -l {o[2:]}"
                for o in own
                if o[:2] == "--"
            ]
        return "# mgremind completion for fish: mgremind completion fish | source\n" + "\n".join(lines) + "\n"
    cases = "".join(f"        {name}) words='{' '.join(own)}' ;;\n" for name, _, own in commands if own)
    body = (
        "    local cur=${COMP_WORDS[COMP_CWORD]} command='' words='' i\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        case ${COMP_WORDS[i]} in -c|--config) ((i++)) ;; -*) ;; *) command=${COMP_WORDS[i]}; break ;; esac\n"
        "    done\n"
        "    case $command in\n"
        f"        '') words='{names} {' '.join(options)}' ;;\n"
        f"{cases}"
        "    esac\n"
        "    case ${COMP_WORDS[COMP_CWORD-1]} in -c|--config|--output|--ics) "
        'COMPREPLY=($(compgen -f -- "$cur")); return ;; esac\n'
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))\n'
    )
    if shell == "zsh":
        return (
            "#compdef mgremind\n# mgremind completion for zsh: mgremind completion zsh > ~/.zfunc/_mgremind\n"
            "autoload -U +X bashcompinit && bashcompinit\n"
            f"_mgremind_complete() {{\n{body}}}\ncomplete -o default -F _mgremind_complete mgremind\n"
        )
    return (
        "# mgremind completion for bash: source <(mgremind completion bash)\n"
        f"_mgremind_complete() {{\n{body}}}\ncomplete -o default -F _mgremind_complete mgremind\n"
    )


def completion_words_script(shell: str, callback: str, ids: Sequence[str], supplements: Sequence[str]) -> str:
    """What follows completion_script: the first argument of the commands `ids` completes with
    today's reminder ids, that of `supplements` with the supplement ids, both printed by
    `mgremind CALLBACK ids|supplements [-c FILE]` (they depend on the configuration: the -c of the
    command line is passed on). In bash and zsh a function around completion_script's, in its place."""
    if shell == "fish":
        wants_ids = " ".join(f'"{name} 0"' for name in ids)
        wants_supplements = " ".join(f'"{name} 0"' for name in supplements)
        return (
            "# today's reminder ids and the supplement ids, asked of mgremind (they depend on the configuration)\n"
            "function __mgremind_position --description 'the command, and how many of its arguments are typed'\n"
            "    set -l words (commandline -opc)\n"
            "    set -e words[1]\n"
            "    set -l command\n"
            "    set -l count 0\n"
            "    set -l skip 0\n"
            "    for word in $words\n"
            "        if test $skip = 1\n"
            "            set skip 0\n"
            "        else if contains -- $word -c --config\n"
            "            set skip 1\n"
            "        else if not string match -q -- '-*' $word\n"
            '            if test -z "$command"\n'
            "                set command $word\n"
            "            else\n"
            "                set count (math $count + 1)\n"
            "            end\n"
            "        end\n"
            "    end\n"
            "    echo $command $count\n"
            "end\n"
            "function __mgremind_words --description 'the ids mgremind knows, with the -c of the command line'\n"
            "    set -l words (commandline -opc)\n"
            "    set -l config\n"
            "    for i in (seq 2 (math (count $words) - 1))\n"
            "        if contains -- $words[$i] -c --config\n"
            "            set config -c $words[(math $i + 1)]\n"
            "        end\n"
            "    end\n"
            f"    command $words[1] {callback} $argv $config 2>/dev/null\n"
            "end\n"
            f"complete -c mgremind -f -n 'contains -- (__mgremind_position) {wants_ids}' -a '(__mgremind_words ids)'\n"
            f"complete -c mgremind -f -n 'contains -- (__mgremind_position) {wants_supplements}' "
            "-a '(__mgremind_words supplements)'\n"
        )
    return (
        "# today's reminder ids and the supplement ids, asked of mgremind (they depend on the configuration)\n"
        "_mgremind_complete_words() {\n"
        "    _mgremind_complete\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} command='' kind='' config=() count=0 i\n"
        "    case ${COMP_WORDS[COMP_CWORD-1]} in -c|--config) return ;; esac\n"
        "    [[ $cur == -* ]] && return\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        case ${COMP_WORDS[i]} in\n"
        '            -c|--config) config=(-c "${COMP_WORDS[i+1]/#\\~/$HOME}"); ((i++)) ;;\n'
        "            -*) ;;\n"
        "            *) if [[ -z $command ]]; then command=${COMP_WORDS[i]}; else count=$((count + 1)); fi ;;\n"
        "        esac\n"
        "    done\n"
        "    [[ $count == 0 ]] || return\n"
        "    case $command in\n"
        f"        {'|'.join(ids)}) kind=ids ;;\n"
        f"        {'|'.join(supplements)}) kind=supplements ;;\n"
        "        *) return ;;\n"
        "    esac\n"
        "    local IFS=$'\\n' words\n"
        f'    words=$("${{COMP_WORDS[0]/#\\~/$HOME}}" {callback} $kind "${{config[@]}}" 2>/dev/null)\n'
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))\n'
        "}\n"
        "complete -o default -F _mgremind_complete_words mgremind\n"
    )
