from lambdabox.cli.main import main

main()
