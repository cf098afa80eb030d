# bash completion for xgwctl(8); installed as
# $datadir/bash-completion/completions/xgwctl.
# Static: nouns, verbs and options as in `xgwctl --help` (tests/docs
# checks that every command there is named here).

_xgwctl()
{
    local cur prev words cword
    _init_completion || return

    local global_opts='-s --socket --json --version --help -f --file --batch'
    local nouns='service backend policy steer route neigh ct stats workers trace capture ports config drain help call'

    case $prev in
        -s | --socket | -f | --file)
            _filedir
            return
            ;;
        --batch | --weight | --vni | --limit | --dport | --count | --filter | --timeout | --port)
            return
            ;;
        --datapath)
            COMPREPLY=($(compgen -W 'user kernel' -- "$cur"))
            return
            ;;
        --algo)
            COMPREPLY=($(compgen -W 'maglev rr random' -- "$cur"))
            return
            ;;
        --proto)
            COMPREPLY=($(compgen -W 'tcp udp icmp' -- "$cur"))
            return
            ;;
    esac

    # The noun and verb: the first two words that are not options (or
    # the arguments of -s, -f and --batch).
    local i noun='' verb='' skip=0
    for ((i = 1; i < cword; i++)); do
        if ((skip)); then
            skip=0
            continue
        fi
        case ${words[i]} in
            -s | --socket | -f | --file | --batch) skip=1 ;;
            -*) ;;
            *)
                if [[ -z $noun ]]; then
                    noun=${words[i]}
                elif [[ -z $verb ]]; then
                    verb=${words[i]}
                    break
                fi
                ;;
        esac
    done

    if [[ -z $noun ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$nouns" -- "$cur"))
        fi
        return
    fi

    local verbs='' opts='--json'
    case $noun in
        service) verbs='add del list move check' ;;
        backend) verbs='add del list set' ;;
        policy) verbs='add del list' ;;
        steer) verbs='add del list' ;;
        route) verbs='list get' ;;
        neigh) verbs='list' ;;
        ct) verbs='list flush' ;;
        config) verbs='get save reload' ;;
        stats) opts='--json --watch' ;;
        workers) opts='--interval --json' ;;
        trace) opts='--count --filter --timeout --json' ;;
        capture)
            opts='-w --port --dir --count --filter --timeout'
            case $prev in
                -w)
                    _filedir
                    return
                    ;;
                --dir)
                    COMPREPLY=($(compgen -W 'rx tx both' -- "$cur"))
                    return
                    ;;
            esac
            ;;
        ports | drain | help | call) ;;
    esac
    if [[ -n $verbs && -z $verb ]]; then
        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
        return
    fi

    case "$noun $verb" in
        'service add') opts='--datapath --algo --snat --check --check-interval --check-timeout --rise --fall --check-port --check-status --check-send --check-expect --on-down --json' ;;
        'service check') opts='--check --check-interval --check-timeout --rise --fall --check-port --check-status --check-send --check-expect --on-down --json' ;;
        'service move') opts='--datapath --json' ;;
        'backend add') opts='--weight --vxlan --geneve --vni --inner-mac --json' ;;
        'backend set') opts='--weight --json' ;;
        'policy add')
            opts='--src --dst --proto --dport --json'
            if [[ $prev == add && $cur != -* ]]; then
                COMPREPLY=($(compgen -W 'deny allow' -- "$cur"))
                return
            fi
            ;;
        'steer add') opts='--dst --proto --dport --json' ;;
        'ct list' | 'service list' | 'route list') opts='--limit --json' ;;
        'config save')
            if [[ $cur != -* ]]; then
                _filedir
                return
            fi
            ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
} &&
    complete -F _xgwctl xgwctl
