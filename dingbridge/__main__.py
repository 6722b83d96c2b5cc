from dingbridge.cli import main

main()
