from slaledger.cli.main import main

main()
