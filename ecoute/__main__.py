from ecoute.cli import main

main()
